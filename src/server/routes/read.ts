import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { traverse } from "../../graph/traverse.js";
import { executeQuery } from "../../query/mod.js";
import { parseSearch, searchEntities } from "../../query/search.js";
import { addEdge, removeEdge, requireLive } from "../../node/writes.js";
import { withRequestTenant, type ServerContext } from "../context.js";
import { minSeqQuery, SEQ_HEADER, tenantHeaders } from "./schemas-common.js";

const searchBody = z.object({
  query: z.string().min(1).describe("The text to search for (embedded with the field's provider)"),
  schema: z.string(),
  field: z.string().optional(),
  top_k: z.number().int().min(1).max(10_000).default(10),
  min_score: z.number().min(-1).max(1).optional(),
  where: z.string().optional().describe("An SQL predicate the results must match"),
});

/** Queries, search, feeds and the graph. */
export function readRoutes(ctx: ServerContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      "/api/v1/query",
      {
        config: { access: "read" },
        schema: {
          tags: ["query"],
          summary: "SQL over entities: SELECT … FROM schema [WHERE] [ORDER BY] [LIMIT/OFFSET], COUNT(*), EXPLAIN, or SEARCH schema 'text'",
          headers: tenantHeaders,
          querystring: z.object(minSeqQuery),
          body: z.object({ sql: z.string().min(1), cursor: z.string().optional(), page_size: z.number().int().min(1).max(100_000).optional() }),
        },
      },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          const search = parseSearch(req.body.sql);
          if (search !== null) {
            const r = await searchEntities(t, { schema: search.schema, text: search.text, where: search.where, topK: search.limit ?? 10 });
            return { rows: r.hits, next_cursor: null, plan: r.plan };
          }
          const r = await executeQuery(t.store, req.body.sql, { cursor: req.body.cursor, pageSize: req.body.page_size });
          return { rows: r.rows, next_cursor: r.next_cursor, plan: r.plan, ...(r.count === undefined ? {} : { count: r.count }) };
        }),
    );

    app.post(
      "/api/v1/search",
      { config: { access: "read" }, schema: { tags: ["search"], summary: "Semantic search: [{id, score, entity}] best first, with the plan", headers: tenantHeaders, querystring: z.object(minSeqQuery), body: searchBody } },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          const b = req.body;
          return searchEntities(t, { schema: b.schema, text: b.query, field: b.field, topK: b.top_k, minScore: b.min_score, where: b.where });
        }),
    );

    app.get(
      "/api/v1/resources",
      {
        config: { access: "read" },
        schema: {
          tags: ["search"],
          summary: "Semantic search over the `resources` schema (create it with the resources template)",
          headers: tenantHeaders,
          querystring: z.object({ query: z.string().min(1), top_k: z.coerce.number().int().min(1).max(1000).default(10), where: z.string().optional(), ...minSeqQuery }),
        },
      },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          return (await searchEntities(t, { schema: "resources", text: req.query.query, topK: req.query.top_k, where: req.query.where })).hits;
        }),
    );

    app.get(
      "/api/v1/moments",
      {
        config: { access: "read" },
        schema: {
          tags: ["moments"],
          summary: "The temporal feed: moments newest first, optionally within [from, to] (ISO times) and of one moment_type",
          headers: tenantHeaders,
          querystring: z.object({
            from: z.iso.datetime({ offset: true }).optional(),
            to: z.iso.datetime({ offset: true }).optional(),
            moment_type: z.string().regex(/^[a-z_]{1,64}$/).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(50),
            cursor: z.string().optional(),
            ...minSeqQuery,
          }),
        },
      },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          const q = req.query;
          const where: string[] = [];
          if (q.from !== undefined) where.push(`start_time >= '${q.from}'`);
          if (q.to !== undefined) where.push(`start_time <= '${q.to}'`);
          if (q.moment_type !== undefined) where.push(`moment_type = '${q.moment_type}'`);
          const sql = `SELECT * FROM moments${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY start_time DESC`;
          const r = await executeQuery(t.store, sql, { pageSize: q.limit, cursor: q.cursor });
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          return { moments: r.rows, next_cursor: r.next_cursor };
        }),
    );

    app.post(
      "/api/v1/edges",
      {
        config: { access: "write" },
        schema: {
          tags: ["graph"],
          summary: "Add an edge src → dst (both must exist); remove with `remove: true`",
          headers: tenantHeaders,
          body: z.object({ src: z.string(), dst: z.string(), type: z.string(), props: z.record(z.string(), z.unknown()).optional(), remove: z.boolean().optional() }),
        },
      },
      async (req, reply) => {
        const b = req.body;
        const r = await withRequestTenant(ctx, req, (t) => (b.remove ? removeEdge(t, b.src, b.dst, b.type) : addEdge(t, b.src, b.dst, b.type, b.props ?? {})));
        void reply.header(SEQ_HEADER, String(r.seq));
        return reply.status(b.remove ? 200 : 201).send({ src: b.src.toLowerCase(), dst: b.dst.toLowerCase(), type: b.type, seq: r.seq });
      },
    );

    app.get(
      "/api/v1/traverse/:id",
      {
        config: { access: "read" },
        schema: {
          tags: ["graph"],
          summary: "Breadth-first traversal: each reachable node with its depth and path",
          headers: tenantHeaders,
          params: z.object({ id: z.string() }),
          querystring: z.object({ depth: z.coerce.number().int().min(0).max(10).default(1), direction: z.enum(["out", "in", "both"]).default("out"), type: z.string().optional(), ...minSeqQuery }),
        },
      },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          const start = requireLive(t, req.params.id).id;
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          return traverse(t.store, start, { depth: req.query.depth, direction: req.query.direction, type: req.query.type });
        }),
    );

  };
}
