import Fastify, { LogController, type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { NatsConnection } from "@nats-io/nats-core";
import type { RemConfig } from "../config/config.js";
import { RemError } from "../errors.js";
import type { Keystore } from "../../events/keys/keystore.js";
import { TenantPool } from "../node/tenant-pool.js";
import type { TenantName } from "../../events/model/ids.js";
import { Follower } from "../../replay/replica/follower.js";
import { prepareReplica } from "../../replay/replica/setup.js";
import { redactUrl } from "../../replay/replica/status.js";
import { authenticate } from "./auth/authenticate.js";
import { TokenStore } from "./auth/token-store.js";
import { BackgroundWork, type BackgroundOptions, type TenantHealth } from "./background.js";
import type { ServerContext } from "./context.js";
import { Metrics } from "./metrics.js";
import { errorHandler, PROBLEM_JSON, problemOf } from "./problem.js";
import { dataRoutes } from "./routes/data.js";
import { eventRoutes } from "./routes/events.js";
import { opsRoutes } from "./routes/ops.js";
import { readRoutes } from "./routes/read.js";
import { sqlRoutes } from "./routes/sql.js";

export interface ServerOptions {
  readonly config: RemConfig;
  /** Unlocked to sign appends (a replica may pass a public keystore). */
  readonly keystore: Keystore;
  /** Default 127.0.0.1: binding to all interfaces is a choice (`--host 0.0.0.0`). */
  readonly host?: string;
  /** Default 8000; 0 picks a free port. */
  readonly port?: number;
  /**
   * A read replica: tenants are followed live from their JetStream streams
   * (a tenant's local record is made on first use) and writes are refused.
   */
  readonly replica?: boolean;
  /** A replica's primary, named in the problem a refused write gets. */
  readonly primary?: string;
  /** Largest request body in bytes (default 16 MiB); larger gets 413. */
  readonly bodyLimit?: number;
  /** Requests per second per tenant (default 10,000); 0 turns the limit off. Over it: 429. */
  readonly rateLimitPerSecond?: number;
  /** Tenants kept open (default 64). */
  readonly maxOpenTenants?: number;
  /** Longest a read waits for `min_seq` (default 5 s); then 504. */
  readonly minSeqWaitMs?: number;
  /** Most commits an open tenant may trail and still be ready (default 1000). */
  readonly readyMaxLag?: number;
  /** REM_ADMIN_TOKEN: an admin token from the environment, never stored. */
  readonly adminToken?: string;
  /** Drain embedding backlogs in the background (default true). */
  readonly embedInBackground?: boolean;
  readonly background?: BackgroundOptions;
  /** pino level (default "info"); false for none. */
  readonly logLevel?: string | false;
}

export interface RemServer {
  readonly app: FastifyInstance;
  readonly context: ServerContext;
  readonly background: BackgroundWork;
  /** http://host:port, once listening. */
  readonly url: string;
  /** An admin token generated on this first start (print it once), or null. */
  readonly generatedAdminToken: string | null;
  /** Stops accepting, ends SSE followers, finishes in-flight requests and appends, closes tenants and NATS. */
  close(): Promise<void>;
}

const VERSION = "0.1.0";

/** Builds the REM HTTP server and starts listening. */
export async function startServer(o: ServerOptions): Promise<RemServer> {
  const tokens = new TokenStore(o.config.dataDir, o.adminToken);
  const generatedAdminToken = await tokens.ensureAdmin();
  let nats: NatsConnection | null = null;
  if (o.config.natsUrl !== undefined) {
    const { connectNats } = await import("../../events/log/jetstream/connect.js");
    nats = await connectNats(o.config.natsUrl, { name: "rem-server" });
  }
  const metrics = new Metrics();
  const health = new Map<string, TenantHealth>() as ServerContext["health"];
  const followers = new Map<TenantName, Follower>();
  const replica = o.replica === true;
  if (replica && nats === null) throw new RemError("REM_ERR_INVALID_ARGUMENT", "a replica follows JetStream streams: pass --nats URL (or set REM_NATS_URL)", { field: "nats" });
  const pool = new TenantPool(o.config, {
    keystore: o.keystore,
    write: !replica,
    maxOpen: o.maxOpenTenants,
    nats: nats ?? undefined,
    beforeOpen: replica ? async (name) => void (await prepareReplica(o.config, name, { nats: nats ?? undefined })) : undefined,
    onOpen: replica
      ? (t) => {
          const f = new Follower(t, { source: redactUrl(o.config.natsUrl) }).start();
          followers.set(t.name, f);
          t.onClose(async () => void (followers.get(t.name) === f && followers.delete(t.name)));
        }
      : undefined,
  });
  const ctx: ServerContext = {
    config: o.config,
    keystore: o.keystore,
    pool,
    tokens,
    metrics,
    replica,
    primary: o.primary ?? null,
    followers,
    minSeqWaitMs: o.minSeqWaitMs ?? 5_000,
    embedInBackground: o.embedInBackground ?? true,
    health,
    streams: new Set(),
    nats,
  };

  const app = buildApp(ctx, o);
  const background = new BackgroundWork(ctx, app.log, o.background);
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const s of ctx.streams) s.abort();
      // A keep-alive socket whose request finishes after close() began turns idle
      // later and would hold the server open until its keep-alive timeout: close those as they idle.
      const idle = setInterval(() => app.server.closeIdleConnections(), 25);
      try {
        await app.close(); // stops accepting; waits for in-flight requests (and so their appends)
      } finally {
        clearInterval(idle);
        await background.stop();
        await pool.close();
        await nats?.close().catch(() => undefined);
      }
    })());

  try {
    await app.listen({ host: o.host ?? "127.0.0.1", port: o.port ?? 8000 });
  } catch (err) {
    await close().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") throw new RemError("REM_ERR_INVALID_ARGUMENT", `port ${o.port ?? 8000} on ${o.host ?? "127.0.0.1"} is in use: pick another with --port`, { field: "port" }, { cause: err });
    throw err;
  }
  background.start();
  const addr = app.server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : (o.port ?? 8000);
  const host = o.host ?? "127.0.0.1";
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return { app, context: ctx, background, url: `http://${shownHost}:${port}`, generatedAdminToken, close };
}

function buildApp(ctx: ServerContext, o: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: o.logLevel === false ? false : { level: o.logLevel ?? "info" },
    logController: new LogController({ disableRequestLogging: true }), // two log lines per request would cost more than most routes
    bodyLimit: o.bodyLimit ?? 16 * 1024 * 1024,
    return503OnClosing: true,
    requestTimeout: 60_000, // the whole request must arrive within a minute (slow-loris); responses (SSE) may last
    forceCloseConnections: "idle",
  }).withTypeProvider<ZodTypeProvider>();
  // Headers are documented (OpenAPI) but not parsed by zod: authenticate() already checked the
  // ones REM reads, and parsing every request's whole header object cost ~5% of a GET.
  app.setValidatorCompiler((route) => (route.httpPart === "headers" ? (data: unknown) => ({ value: data }) : validatorCompiler(route as Parameters<typeof validatorCompiler>[0])));
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    const p = problemOf(new RemError("REM_ERR_NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`, {}), req.url.split("?")[0]);
    void reply.status(404).type(PROBLEM_JSON).send(p);
  });
  app.decorateRequest("principal", null);

  // Authentication runs first, before the body is read: unknown callers cost little.
  app.addHook("onRequest", async (req) => {
    if (req.routeOptions.url === undefined) return; // no such route: the 404 handler answers
    req.principal = await authenticate(req, ctx.tokens, req.routeOptions.config.access ?? "admin", ctx.replica, ctx.primary);
  });
  app.addHook("onResponse", (req, reply, done) => {
    ctx.metrics.observeRequest(req.method, req.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  void app.register(swagger, {
    openapi: {
      info: { title: "REM", description: "An event-sourced memory database for AI agents: the HTTP API. Every route but /health, /ready and /docs/json needs `Authorization: Bearer <token>`; tenant routes take the tenant from `X-Tenant-ID`. Errors are application/problem+json with a stable `code`.", version: VERSION },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  const perSecond = o.rateLimitPerSecond ?? 10_000;
  if (perSecond > 0) {
    void app.register(rateLimit, {
      global: true,
      hook: "preParsing", // after authentication, before a body is read
      max: perSecond,
      timeWindow: 1000,
      // Per tenant (as seed 004's load balancer routes), else per caller.
      keyGenerator: (req) => (typeof req.headers["x-tenant-id"] === "string" ? `t:${req.headers["x-tenant-id"]}` : `ip:${req.ip}`),
      errorResponseBuilder: (_req, c) => new RemError("REM_ERR_RATE_LIMITED", `more than ${c.max} requests per second for this tenant; retry in ${c.after}`, { retryAfterS: Math.max(1, Math.ceil(c.ttl / 1000)) }),
    });
  }
  void app.register(opsRoutes(ctx, { maxLag: o.readyMaxLag ?? 1000 }));
  void app.register(eventRoutes(ctx));
  void app.register(dataRoutes(ctx));
  void app.register(readRoutes(ctx));
  void app.register(sqlRoutes(ctx));
  return app as unknown as FastifyInstance;
}
