import { readdir } from "node:fs/promises";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { layout } from "../../config/config.js";
import { RemError } from "../../errors.js";
import { tenantName, type TenantName } from "../../../events/model/ids.js";
import { initTenant } from "../../node/init-tenant.js";
import { backendKind } from "../../node/open-log.js";
import { readTenantMeta } from "../../node/tenant-meta.js";
import type { ServerContext } from "../context.js";
import type { ReplicationStatus } from "../../../replay/replica/status.js";
import { PROBLEM_JSON, problemOf } from "../problem.js";

export interface ReadinessOptions {
  /** Most commits an open tenant's projections may trail its log by and still be ready (default 1000). */
  readonly maxLag: number;
}

/** Liveness, readiness, metrics, the OpenAPI document, and node administration (tenants, tokens). */
export function opsRoutes(ctx: ServerContext, o: ReadinessOptions): FastifyPluginAsyncZod {
  return async (app) => {
    app.get("/health", { config: { access: "public", rateLimit: false }, schema: { tags: ["ops"], summary: "Alive: the process answers" } }, async () => ({ status: "ok" }));

    app.get(
      "/ready",
      { config: { access: "public", rateLimit: false }, schema: { tags: ["ops"], summary: "Ready: the log is reachable and open tenants' projections are caught up (503 otherwise)" } },
      async (req, reply) => {
        const problems: string[] = [];
        if (ctx.nats !== null) {
          if (ctx.nats.isClosed()) problems.push("the NATS connection is closed");
          else {
            const rtt = await Promise.race([ctx.nats.rtt().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]);
            if (!rtt) problems.push("NATS does not answer");
          }
        }
        const tenants: Record<string, { lag: number; backlog: number; error: string | null }> = {};
        for (const [name, h] of ctx.health) {
          tenants[name] = { lag: h.lag, backlog: h.backlog, error: h.error?.code ?? null };
          if (h.lag > o.maxLag) problems.push(`tenant ${name} trails its log by ${h.lag} commits`);
          if (h.error !== null && h.error.code !== "REM_ERR_EMBEDDING_PROVIDER") problems.push(`tenant ${name}: ${h.error.code}`);
        }
        const replication: Record<string, ReplicationStatus> = {};
        for (const [name, f] of ctx.followers) {
          const s = (replication[name] = f.status());
          if (!s.connected) problems.push(`replica of tenant ${name} is not connected to NATS`);
        }
        const body = { status: problems.length === 0 ? "ready" : "not_ready", backend: backendKind(ctx.config), replica: ctx.replica, problems, tenants, ...(ctx.replica ? { replication } : {}) };
        if (problems.length === 0) return body;
        const p = problemOf(new RemError("REM_ERR_LOG_UNAVAILABLE", problems.join("; "), {}), req.url);
        return reply.status(503).type(PROBLEM_JSON).send({ ...p, ...body });
      },
    );

    app.get("/metrics", { config: { access: "admin", rateLimit: false }, schema: { tags: ["ops"], summary: "Prometheus metrics (admin token)" } }, async (_req, reply) => {
      void reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });

    app.get("/docs/json", { config: { access: "public", rateLimit: false }, schema: { hide: true } }, async () => app.swagger());

    app.post(
      "/api/v1/tenants",
      {
        config: { access: "admin" },
        schema: {
          tags: ["admin"],
          summary: "Create a tenant (idempotent): its log, keys and core schemas",
          body: z.object({ name: z.string().describe("1-63 of a-z 0-9 _ -, starting with a letter or digit"), encrypt: z.boolean().default(false) }),
        },
      },
      async (req, reply) => {
        if (ctx.replica) throw new RemError("REM_ERR_READ_ONLY", "this node is a read replica: create tenants on the primary", {});
        const r = await initTenant(ctx.config, ctx.keystore, tenantName(req.body.name), { encrypt: req.body.encrypt });
        return reply.status(r.created ? 201 : 200).send(r);
      },
    );

    app.get("/api/v1/tenants", { config: { access: "admin" }, schema: { tags: ["admin"], summary: "Tenants on this node" } }, async () => {
      const names = await readdir(layout.tenants(ctx.config.dataDir)).catch(() => [] as string[]);
      const open = new Set<string>(ctx.pool.open);
      const out = [];
      for (const n of names.sort()) {
        let name: TenantName;
        try {
          name = tenantName(n);
        } catch {
          continue;
        }
        const meta = await readTenantMeta(ctx.config.dataDir, name);
        if (meta === null) continue;
        out.push({ name, backend: meta.backend, encrypted: meta.encrypted, created_at: meta.created_at, shredded_at: meta.shredded_at ?? null, open: open.has(name), lag: ctx.health.get(name)?.lag ?? null });
      }
      return out;
    });

    app.post(
      "/api/v1/tokens",
      {
        config: { access: "admin" },
        schema: {
          tags: ["admin"],
          summary: "Issue a token scoped to one tenant (shown once; stored hashed)",
          body: z.object({ tenant: z.string(), read_only: z.boolean().default(false), label: z.string().max(200).optional() }),
        },
      },
      async (req, reply) => {
        const r = await ctx.tokens.createTenantToken(req.body.tenant, req.body.read_only, req.body.label);
        return reply.status(201).send({ id: r.id, token: r.token, tenant: tenantName(req.body.tenant), read_only: req.body.read_only });
      },
    );

    app.get("/api/v1/tokens", { config: { access: "admin" }, schema: { tags: ["admin"], summary: "Tokens (ids and scopes, never the tokens)" } }, async () => ctx.tokens.list());

    app.delete(
      "/api/v1/tokens/:id",
      { config: { access: "admin" }, schema: { tags: ["admin"], summary: "Revoke a token", params: z.object({ id: z.string() }) } },
      async (req) => {
        if (!(await ctx.tokens.revoke(req.params.id))) throw new RemError("REM_ERR_NOT_FOUND", `no token ${req.params.id}`, {});
        return { revoked: req.params.id };
      },
    );
  };
}
