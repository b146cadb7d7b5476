import type { FastifyRequest } from "fastify";
import { RemError } from "../../errors.js";
import { tenantName } from "../../../events/model/ids.js";
import type { Access } from "../context.js";
import type { Principal, TokenStore } from "./token-store.js";

/**
 * Decides whether a request may run, before its body is read: who the bearer
 * token speaks for, and whether that principal may do what the route does.
 *
 * - "public" routes (health, readiness, the OpenAPI document) need no token;
 * - "read" routes need any valid token whose tenant is the X-Tenant-ID (admin: any tenant);
 * - "write" routes additionally refuse read-only tokens, and every write on a read replica;
 * - "admin" routes need an admin token.
 *
 * Throws REM_ERR_UNAUTHORIZED (401: no or unknown token), REM_ERR_FORBIDDEN
 * (403: a valid token not allowed here) or REM_ERR_READ_ONLY (409: a replica).
 */
export async function authenticate(req: FastifyRequest, tokens: TokenStore, access: Access, replica: boolean, primary: string | null = null): Promise<Principal | null> {
  if (access === "public") return null;
  const principal = await principalOf(req, tokens);
  if (access === "admin") {
    if (principal.kind !== "admin") throw new RemError("REM_ERR_FORBIDDEN", "this route needs an admin token", {});
    return principal;
  }
  const header = req.headers["x-tenant-id"];
  if (typeof header !== "string" || header === "") {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", "X-Tenant-ID header required: the tenant this request is for", { field: "X-Tenant-ID" });
  }
  const tenant = tenantName(header);
  if (principal.kind === "tenant") {
    if (principal.tenant !== tenant) throw new RemError("REM_ERR_FORBIDDEN", `this token is for tenant ${principal.tenant}, not ${tenant}`, { tenant });
    if (access === "write" && principal.readOnly) throw new RemError("REM_ERR_FORBIDDEN", "this token is read-only", { tenant });
  }
  if (access === "write" && replica) {
    const where = primary === null ? "the primary" : `the primary at ${primary}`;
    throw new RemError("REM_ERR_READ_ONLY", `this node is a read replica: send writes to ${where}`, { tenant, primary });
  }
  return principal;
}

async function principalOf(req: FastifyRequest, tokens: TokenStore): Promise<Principal> {
  const auth = req.headers.authorization;
  if (auth === undefined || auth === "") throw new RemError("REM_ERR_UNAUTHORIZED", "send Authorization: Bearer <token> (see `rem token create`)", {});
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
  if (m === null) throw new RemError("REM_ERR_UNAUTHORIZED", "the Authorization header must be `Bearer <token>`", {});
  const principal = await tokens.verify(m[1]!);
  if (principal === null) throw new RemError("REM_ERR_UNAUTHORIZED", "unknown or revoked token", {});
  return principal;
}
