import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { RemError, asRemError } from "../../errors.js";
import type { Event } from "../../../events/model/events.js";
import type { Seq } from "../../../events/model/ids.js";
import { eventFromJson, eventToJson } from "../../../events/model/validate.js";
import type { VerifiedCommit } from "../../../events/chain-verifier.js";
import type { Tenant } from "../../node/tenant.js";
import { validateEntity } from "../../../schema/validate.js";
import { parseSchema, type SchemaSpec } from "../../../schema/definition.js";
import { requestTenant, withRequestTenant, type ServerContext } from "../context.js";
import { SEQ_HEADER, tenantHeaders } from "./schemas-common.js";

const appendBody = z.object({
  events: z.array(z.record(z.string(), z.unknown())).min(1).max(10_000).describe("Events in their JSON form (docs/event-format.md); give each an `id` to make retries idempotent"),
  expected_seq: z.number().int().min(0).optional().describe("Fail with 409 unless the log ends at this sequence"),
});

/** The log over HTTP: append a batch as one commit, read it, follow it live (SSE). */
export function eventRoutes(ctx: ServerContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      "/api/v1/events",
      { config: { access: "write" }, schema: { tags: ["events"], summary: "Append events as one atomic commit", headers: tenantHeaders, body: appendBody } },
      async (req, reply) => {
        const keyEvent = req.body.events.findIndex((e) => typeof e.type === "string" && e.type.startsWith("key."));
        if (keyEvent >= 0 && req.principal?.kind !== "admin") {
          throw new RemError("REM_ERR_FORBIDDEN", `events[${keyEvent}]: key events need an admin token`, { path: `events[${keyEvent}]` });
        }
        const events = req.body.events.map((e, i) => eventFromJson(e, `events[${i}]`));
        const r = await withRequestTenant(ctx, req, async (t) => {
          checkAgainstSchemas(t, events);
          const res = await t.log.append(events, { expectedSeq: req.body.expected_seq as Seq | undefined });
          await t.sync(res.seq);
          return res;
        });
        if (!r.duplicate) ctx.metrics.appends.inc({ tenant: requestTenant(req) }, events.length);
        void reply.header(SEQ_HEADER, String(r.seq));
        return reply.status(r.duplicate ? 200 : 201).send({ seq: r.seq, ids: events.map((e) => e.id), commit_id: r.commitId, duplicate: r.duplicate });
      },
    );

    app.get(
      "/api/v1/events",
      {
        config: { access: "read" },
        schema: {
          tags: ["events"],
          summary: "Read commits from a sequence; with Accept: text/event-stream, follow live (resumable with Last-Event-ID)",
          headers: tenantHeaders,
          querystring: z.object({ from: z.coerce.number().int().min(1).default(1), limit: z.coerce.number().int().min(1).max(10_000).default(100) }),
        },
      },
      async (req, reply) => {
        const accept = req.headers.accept ?? "";
        if (accept.includes("text/event-stream")) return followSse(ctx, req, reply);
        const { from, limit } = req.query;
        return withRequestTenant(ctx, req, async (t) => {
          const commits: unknown[] = [];
          const stop = new AbortController();
          for await (const batch of t.log.read(from as Seq, { signal: stop.signal })) {
            for (const c of batch) {
              if (commits.length >= limit) break;
              commits.push(commitJson(t, c));
            }
            if (commits.length >= limit) {
              stop.abort();
              break;
            }
          }
          const head = await t.log.head();
          const last = (commits[commits.length - 1] as { seq: number } | undefined)?.seq ?? from - 1;
          void reply.header(SEQ_HEADER, String(head.seq));
          return { commits, next: last < head.seq ? last + 1 : null, head: head.seq };
        });
      },
    );
  };
}

/** A commit as JSON: its position, time, id and events. */
function commitJson(t: Tenant, c: VerifiedCommit): Record<string, unknown> {
  return { seq: c.seq, ts: new Date(c.ts).toISOString(), commit_id: c.commitId, events: t.log.events(c).map(eventToJson) };
}

/**
 * Raw events must still make sense to the projections: schema definitions
 * parse, and entities name a schema that exists (now, or earlier in the batch)
 * and fit it.
 */
function checkAgainstSchemas(t: Tenant, events: readonly Event[]): void {
  const inBatch = new Map<string, SchemaSpec | null>();
  events.forEach((e, i) => {
    switch (e.type) {
      case "schema.registered":
      case "schema.changed": {
        try {
          inBatch.set(e.name, parseSchema(e.definition, e.name));
        } catch (err) {
          const inner = asRemError(err);
          throw new RemError(inner.code, `events[${i}].definition: ${inner.message}`, { ...inner.details, path: `events[${i}].definition` }, { cause: err });
        }
        return;
      }
      case "schema.dropped":
        inBatch.set(e.name, null);
        return;
      case "entity.upserted": {
        const spec = inBatch.has(e.schema) ? inBatch.get(e.schema) : t.store.schemaSpec(e.schema);
        if (spec === undefined || spec === null) throw new RemError("REM_ERR_SCHEMA_NOT_FOUND", `events[${i}]: no schema ${JSON.stringify(e.schema)} in tenant ${t.name}`, { path: `events[${i}].schema` });
        validateEntity(spec, e.data, `events[${i}].data`);
        return;
      }
      default:
        return;
    }
  });
}

/** Server-sent events: one `commit` event per commit, `id` = its sequence; a comment every 15 s keeps proxies open. */
async function followSse(ctx: ServerContext, req: Parameters<typeof withRequestTenant>[1], reply: import("fastify").FastifyReply): Promise<void> {
  const lastEventId = req.headers["last-event-id"];
  const query = req.query as { from?: number };
  let from = query.from ?? 1;
  if (typeof lastEventId === "string" && lastEventId !== "") {
    const n = Number(lastEventId);
    if (!Number.isSafeInteger(n) || n < 0) throw new RemError("REM_ERR_INVALID_ARGUMENT", `Last-Event-ID must be a commit sequence, got ${JSON.stringify(lastEventId)}`, { field: "Last-Event-ID" });
    from = n + 1;
  }
  const tenant = requestTenant(req);
  const stop = new AbortController();
  req.raw.on("close", () => stop.abort());
  ctx.streams.add(stop);
  await ctx.pool.use(tenant, async (t) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "close", "x-accel-buffering": "no" });
    res.write(": following\n\n");
    const beat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    try {
      for await (const batch of t.log.follow(from as Seq, { signal: stop.signal })) {
        for (const c of batch) res.write(`id: ${c.seq}\nevent: commit\ndata: ${JSON.stringify(commitJson(t, c))}\n\n`);
      }
    } catch (err) {
      if (!stop.signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ code: (err as RemError).code ?? "REM_ERR_INTERNAL", message: (err as Error).message })}\n\n`);
    } finally {
      clearInterval(beat);
      ctx.streams.delete(stop);
      res.end();
    }
  });
}
