import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenStore } from "../../src/server/auth/token-store.js";
import { ADMIN, serverFixture, type ServerFixture } from "../support/server-fixture.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** One request per kind of access the API has. */
const ROUTES = {
  read: ["GET", "/api/v1/schemas"],
  write: ["POST", "/api/v1/entities/sessions"],
  admin: ["GET", "/api/v1/tenants"],
} as const;

describe("authentication and authorisation", () => {
  let fx: ServerFixture;
  let acmeRw: string;
  let acmeRo: string;
  let betaRw: string;
  beforeAll(async () => {
    fx = await serverFixture({ tenants: ["acme", "beta"] });
    const store = new TokenStore(fx.dir);
    acmeRw = (await store.createTenantToken("acme", false)).token;
    acmeRo = (await store.createTenantToken("acme", true)).token;
    betaRw = (await store.createTenantToken("beta", false)).token;
  });
  afterAll(async () => fx?.close());

  const send = (kind: keyof typeof ROUTES, token: string | null, tenant = "acme") =>
    fx.call(ROUTES[kind][0], ROUTES[kind][1], { token, tenant, body: kind === "write" ? { name: "s" } : undefined });

  it.each([
    // [who, access, tenant header, expected status, expected code]
    ["no token", "read", "acme", 401, "REM_ERR_UNAUTHORIZED"],
    ["no token", "write", "acme", 401, "REM_ERR_UNAUTHORIZED"],
    ["no token", "admin", "acme", 401, "REM_ERR_UNAUTHORIZED"],
    ["bad token", "read", "acme", 401, "REM_ERR_UNAUTHORIZED"],
    ["acme rw", "read", "acme", 200, null],
    ["acme rw", "write", "acme", 201, null],
    ["acme rw", "admin", "acme", 403, "REM_ERR_FORBIDDEN"],
    ["acme rw", "read", "beta", 403, "REM_ERR_FORBIDDEN"],
    ["acme rw", "write", "beta", 403, "REM_ERR_FORBIDDEN"],
    ["acme ro", "read", "acme", 200, null],
    ["acme ro", "write", "acme", 403, "REM_ERR_FORBIDDEN"],
    ["acme ro", "read", "beta", 403, "REM_ERR_FORBIDDEN"],
    ["beta rw", "write", "beta", 201, null],
    ["beta rw", "read", "acme", 403, "REM_ERR_FORBIDDEN"],
    ["admin", "read", "acme", 200, null],
    ["admin", "write", "beta", 201, null],
    ["admin", "admin", "acme", 200, null],
  ] as const)("%s → %s on %s: %i", async (who, access, tenant, status, code) => {
    const token = { "no token": null, "bad token": "rem_not_a_real_token", "acme rw": acmeRw, "acme ro": acmeRo, "beta rw": betaRw, admin: ADMIN }[who];
    const r = await send(access, token, tenant);
    expect(r.status).toBe(status);
    if (code !== null) {
      expect(r.contentType).toContain("application/problem+json");
      expect(r.json.code).toBe(code);
      expect(r.text).not.toMatch(/at .*\.js:\d+/); // never a stack trace
    }
  });

  it("the tenant header is required and validated: no dots, wildcards or path characters", async () => {
    const missing = await fx.call("GET", "/api/v1/schemas", { tenant: null });
    expect(missing.status).toBe(400);
    expect(missing.json.detail).toContain("X-Tenant-ID");
    for (const bad of ["a.b", "*", ">", "../acme", "a/b", "A", "a b", "%2e%2e", "x".repeat(64)]) {
      const r = await fx.call("GET", "/api/v1/schemas", { tenant: bad });
      expect(r.status, bad).toBe(400);
      expect(r.json.code, bad).toBe("REM_ERR_TENANT_INVALID");
    }
  });

  it("a malformed Authorization header is 401, not 500", async () => {
    for (const h of ["Basic abc", "Bearer", "Bearer a b", "bearer"]) {
      const r = await fx.call("GET", "/api/v1/schemas", { token: null, headers: { authorization: h } });
      expect(r.status, h).toBe(401);
    }
  });

  it("tokens are stored hashed: the token file never holds a token", async () => {
    const file = await readFile(join(fx.dir, "auth", "tokens.json"), "utf8");
    for (const t of [acmeRw, acmeRo, betaRw]) expect(file).not.toContain(t);
    expect(file).not.toContain(ADMIN);
  });

  it("key events appended over HTTP need an admin token", async () => {
    const ev = { type: "key.rotated", purpose: "signing", key_id: "0123456789abcdef", public_key: "AAAA", previous_key_id: null };
    const r = await fx.call("POST", "/api/v1/events", { token: acmeRw, body: { events: [ev] } });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe("REM_ERR_FORBIDDEN");
  });

  it("without REM_ADMIN_TOKEN, a first start generates an admin token, stores it hashed, and later starts keep it", async () => {
    const a = await serverFixture({ adminToken: undefined });
    try {
      const token = a.server.generatedAdminToken;
      expect(token).toMatch(/^rem_/);
      expect((await a.call("GET", "/api/v1/tenants", { token: token!, tenant: null })).status).toBe(200);
      const again = new TokenStore(a.dir);
      expect(await again.ensureAdmin()).toBeNull();
      expect(await readFile(join(a.dir, "auth", "tokens.json"), "utf8")).not.toContain(token!);
    } finally {
      await a.close();
    }
  });
});
