import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { MAX_SQL_LENGTH } from "../../sql/limits.js";
import { withRequestTenant, type ServerContext } from "../context.js";
import { minSeqQuery, SEQ_HEADER, tenantHeaders } from "./schemas-common.js";

/** Most rows one response carries (the default is lower: `max_rows`). */
const MAX_ROWS = 100_000;

const sqlBody = z.object({
  sql: z.string().min(1).max(MAX_SQL_LENGTH).describe("One read-only statement (SELECT, WITH, EXPLAIN, DESCRIBE…); each schema is a view named after it"),
  format: z.enum(["json", "csv", "table"]).default("json").describe("json: {columns, rows, truncated, seq}; csv: text/csv; table: aligned text"),
  max_rows: z.number().int().min(1).max(MAX_ROWS).default(10_000).describe("Rows returned at most; more set `truncated`"),
});

/** `POST /api/v1/sql`: DuckDB over the tenant's Parquet exports (docs/analytics.md, docs/http-api.md). */
export function sqlRoutes(ctx: ServerContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      "/api/v1/sql",
      {
        config: { access: "read" },
        schema: {
          tags: ["query"],
          summary: "Analytical SQL (DuckDB) over the tenant's Parquet exports, brought up to date first; statements other than reads are refused (403 REM_ERR_SQL_REFUSED)",
          headers: tenantHeaders,
          querystring: z.object(minSeqQuery),
          body: sqlBody,
        },
      },
      async (req, reply) => {
        const b = req.body;
        // DuckDB loads with the first SQL request, not with every server.
        const [{ analyticsOf }, { toCsv, toTable }] = await Promise.all([import("../../sql/analytics.js"), import("../../sql/results.js")]);
        const r = await withRequestTenant(ctx, req, (t) => analyticsOf(t, ctx.config.dataDir).sql(b.sql, { maxRows: b.max_rows }));
        void reply.header(SEQ_HEADER, String(r.seq));
        if (b.format === "csv") return reply.type("text/csv; charset=utf-8").send(toCsv(r));
        if (b.format === "table") return reply.type("text/plain; charset=utf-8").send(toTable(r));
        return { columns: r.columns, rows: r.rows, row_count: r.rows.length, truncated: r.truncated, seq: r.seq };
      },
    );
  };
}
