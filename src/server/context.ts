import type { FastifyRequest } from "fastify";
import type { RemConfig } from "../config/config.js";
import { RemError } from "../errors.js";
import type { Keystore } from "../../events/keys/keystore.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import type { Tenant } from "../node/tenant.js";
import type { TenantPool } from "../node/tenant-pool.js";
import type { Principal, TokenStore } from "./auth/token-store.js";
import type { Metrics } from "./metrics.js";
import type { TenantHealth } from "./background.js";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Follower } from "../../replay/replica/follower.js";

/** What a route needs: "public" (health), "read", "write" (a tenant's data), "admin" (the node). */
export type Access = "public" | "read" | "write" | "admin";

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface ServerContext {
  readonly config: RemConfig;
  readonly keystore: Keystore;
  readonly pool: TenantPool;
  readonly tokens: TokenStore;
  readonly metrics: Metrics;
  /** A read replica refuses writes (issue 6). */
  readonly replica: boolean;
  /** Where a replica tells writers to go (`--primary`), or null. */
  readonly primary: string | null;
  /** A replica's followers, one per open tenant. */
  readonly followers: Map<TenantName, Follower>;
  /** Longest a read waits for `min_seq` (ms). */
  readonly minSeqWaitMs: number;
  /** Drain embedding backlogs in the background (default true). */
  readonly embedInBackground: boolean;
  /** Per open tenant: what the background work last saw (readiness reads it). */
  readonly health: Map<TenantName, TenantHealth>;
  /** Live SSE followers, ended on shutdown. */
  readonly streams: Set<AbortController>;
  /** The shared NATS connection when on JetStream (readiness pings it). */
  readonly nats: NatsConnection | null;
}

/** The tenant a request is for: the X-Tenant-ID header, checked against the token's tenant. */
export function requestTenant(req: FastifyRequest): TenantName {
  const raw = req.headers["x-tenant-id"];
  if (typeof raw !== "string" || raw === "") {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", "X-Tenant-ID header required: the tenant this request is for", { field: "X-Tenant-ID" });
  }
  const tenant = tenantName(raw);
  const p = req.principal;
  if (p !== null && p.kind === "tenant" && p.tenant !== tenant) {
    throw new RemError("REM_ERR_FORBIDDEN", `this token is for tenant ${p.tenant}, not ${tenant}`, { tenant });
  }
  return tenant;
}

/**
 * Runs `fn` on the request's tenant. With `min_seq`, waits (bounded) until the
 * tenant's projections reflect that commit: read-your-writes across nodes.
 */
export async function withRequestTenant<T>(ctx: ServerContext, req: FastifyRequest, fn: (t: Tenant) => Promise<T>): Promise<T> {
  const tenant = requestTenant(req);
  const minSeq = parseMinSeq(req);
  return ctx.pool.use(tenant, async (t) => {
    if (minSeq !== null) await waitForSeq(ctx, t, minSeq);
    return fn(t);
  });
}

function parseMinSeq(req: FastifyRequest): number | null {
  const q = (req.query as Record<string, unknown> | undefined)?.min_seq;
  if (q === undefined) return null;
  const n = Number(q);
  if (!Number.isSafeInteger(n) || n < 0) throw new RemError("REM_ERR_INVALID_ARGUMENT", `min_seq must be a non-negative integer, got ${JSON.stringify(q)}`, { field: "min_seq" });
  return n;
}

async function waitForSeq(ctx: ServerContext, t: Tenant, minSeq: number): Promise<void> {
  if ((t.store.checkpoint?.seq ?? 0) >= minSeq) return;
  // The log's head is authoritative (JetStream answers for every node): a commit past it does not exist yet.
  const head = (await t.log.head()).seq;
  if (minSeq > head) throw new RemError("REM_ERR_INVALID_ARGUMENT", `min_seq ${minSeq} is past the end of tenant ${t.name}'s log (commit ${head})`, { field: "min_seq", tenant: t.name, seq: head });
  let timer: NodeJS.Timeout | undefined;
  const sync = t.sync(minSeq).then(() => true);
  sync.catch(() => undefined); // when the wait gives up first, the catch-up goes on (and its error is the next caller's)
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ctx.minSeqWaitMs)));
  try {
    if (await Promise.race([sync, gaveUp])) return;
  } finally {
    clearTimeout(timer);
  }
  const at = t.store.checkpoint?.seq ?? 0;
  throw new RemError("REM_ERR_NOT_CAUGHT_UP", `tenant ${t.name} reflects commit ${at}, not yet ${minSeq} (waited ${ctx.minSeqWaitMs} ms)`, { tenant: t.name, seq: at, expectedSeq: minSeq });
}
