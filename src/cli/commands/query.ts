import type { Command } from "commander";
import { executeQuery } from "../../query/mod.js";
import { parseSearch, searchEntities } from "../../query/search.js";
import { intFlag } from "../context.js";
import { printJson } from "../output.js";
import { withTenant } from "../tenant-context.js";

export function registerQueryCommand(program: Command): void {
  program
    .command("query <sql>")
    .description(
      "run a SQL query on the tenant's entities: SELECT cols|*|COUNT(*) FROM schema [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET m]; EXPLAIN SELECT … shows the plan; SEARCH schema 'text' [WHERE …] [LIMIT k] searches semantically. Prints a JSON array of rows",
    )
    .option("--page-size <n>", "return at most n rows and a cursor for the next page: prints {rows, next_cursor}", intFlag("page-size", 1))
    .option("--cursor <cursor>", "continue from a previous page's next_cursor")
    .action(async (sql: string, opts: { pageSize?: number; cursor?: string }, cmd: Command) => {
      const search = parseSearch(sql);
      if (search !== null) {
        // SEARCH schema 'text' [WHERE …] [LIMIT k]: semantic search in the query language.
        const r = await withTenant(cmd, "read", (t) => searchEntities(t, { schema: search.schema, text: search.text, where: search.where, topK: search.limit ?? 10 }));
        printJson(r.hits);
        return;
      }
      const result = await withTenant(cmd, "read", (t) => executeQuery(t.store, sql, { pageSize: opts.pageSize, cursor: opts.cursor }));
      if (/^\s*explain\b/i.test(sql)) printJson(result.plan);
      else if (opts.pageSize !== undefined || opts.cursor !== undefined) printJson({ rows: result.rows, next_cursor: result.next_cursor });
      else printJson(result.rows);
    });
}
