import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { embedPending } from "../../node/embedding-worker.js";
import { searchEntities } from "../../query/search.js";
import { intFlag } from "../context.js";
import { note, printJson } from "../output.js";
import { withTenant } from "../tenant-context.js";

export function registerSearchCommands(program: Command): { exitCode: number } {
  const state = { exitCode: 0 };
  program
    .command("search <text>")
    .description("semantic search over a schema's embedded field: JSON array of {id, score, entity}, best first")
    .requiredOption("--schema <schema>", "the schema to search")
    .option("--field <field>", "the embedded field (default: the schema's first)")
    .option("--top-k <k>", "number of results", intFlag("top-k", 1), 10)
    .option("--min-score <x>", "drop results below this cosine similarity", parseScore)
    .option("--where <predicate>", "an SQL predicate the results must match, e.g. \"category = 'news' AND year >= 2024\"")
    .option("--explain", "print {hits, plan}: the strategy (hnsw, exact, hnsw_filtered) and candidate counts")
    .action(async (text: string, opts: { schema: string; field?: string; topK: number; minScore?: number; where?: string; explain?: boolean }, cmd: Command) => {
      const r = await withTenant(cmd, "read", (t) => searchEntities(t, { schema: opts.schema, text, field: opts.field, topK: opts.topK, minScore: opts.minScore, where: opts.where }));
      printJson(opts.explain ? r : r.hits);
    });

  program
    .command("embed")
    .description("embed the backlog: texts of embedded fields that have no current embedding (after a provider outage or --no-embed)")
    .option("--schema <schema>", "only this schema")
    .action(async (opts: { schema?: string }, cmd: Command) => {
      const r = await withTenant(cmd, "write", (t) =>
        embedPending(t, {
          schema: opts.schema,
          onProgress: (n) => {
            if (n % 10_000 === 0) note(`${n} embedded`);
          },
        }),
      );
      printJson({ embedded: r.embedded, pending: r.pending, ...(r.error ? { error: r.error.toJSON() } : {}) });
      if (r.error) {
        note(`stopped: ${r.error.message}`);
        state.exitCode = 1;
      }
    });
  return state;
}

function parseScore(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x < -1 || x > 1) throw new RemError("REM_ERR_INVALID_ARGUMENT", `--min-score expects a number from -1 to 1, got ${JSON.stringify(value)}`, { field: "min-score" });
  return x;
}
