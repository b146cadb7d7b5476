import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { SQL_FORMATS, type SqlFormat } from "../../sql/limits.js";
import type { Manifest } from "../../../projections/parquet/manifest.js";
import { intFlag } from "../context.js";
import { printJson } from "../output.js";
import { withTenant } from "../tenant-context.js";

/** `rem export` (the Parquet projection, optionally copied out) and `rem sql` (DuckDB over it). See docs/analytics.md. */
export function registerExportCommands(program: Command): void {
  program
    .command("export [schemas...]")
    .description(
      "bring the tenant's Parquet exports up to date (incrementally: only what changed since the last export), and with --output DIR write one ZSTD Parquet file per schema (the schemas named, or --all) as DIR/<schema>.parquet; prints what was done",
    )
    .option("--all", "every schema (with --output)")
    .option("--output <dir>", "also write each schema's current rows to <dir>/<schema>.parquet")
    .option("--embeddings", "include embedded fields' vectors as FLOAT[] columns (<field>_embedding); kept for later exports")
    .option("--no-embeddings", "leave the vectors out again")
    .option("--rebuild", "drop the exports and write them again from the projection store")
    .option("--compact", "fold every schema's delta files into one base file now")
    .action(async (schemas: string[], opts: { all?: boolean; output?: string; embeddings?: boolean; rebuild?: boolean; compact?: boolean }, cmd: Command) => {
      if (opts.all === true && schemas.length > 0) throw new RemError("REM_ERR_INVALID_ARGUMENT", "name schemas or give --all, not both", { field: "all" });
      if (opts.output !== undefined && opts.all !== true && schemas.length === 0) {
        throw new RemError("REM_ERR_INVALID_ARGUMENT", "--output needs the schemas to write: name them, or give --all", { field: "output" });
      }
      printJson(
        await withTenant(cmd, "read", async (t, config) => {
          const { analyticsOf } = await loadSql();
          const a = analyticsOf(t, config.dataDir);
          for (const s of schemas) {
            if (t.store.getSchemaRecord(s) === undefined) throw new RemError("REM_ERR_SCHEMA_NOT_FOUND", `no schema ${JSON.stringify(s)} in tenant ${t.name} (see \`rem schema list\`)`, { tenant: t.name, schema: s, field: "schema" });
          }
          const report = await a.catchUp({ embeddings: opts.embeddings, rebuild: opts.rebuild, compact: opts.compact });
          const output = opts.output === undefined ? undefined : await a.writeOutput(opts.output, opts.all === true ? "all" : schemas);
          const m = await a.exports.manifest();
          return {
            tenant: t.name,
            seq: m?.watermark.seq ?? 0,
            dir: a.exports.dir,
            catch_up: report,
            schemas: describe(m, schemas.length > 0 ? schemas : null),
            ...(output === undefined ? {} : { output }),
          };
        }),
      );
    });

  program
    .command("sql <sql>")
    .description(
      "run one read-only SQL statement (DuckDB) over the tenant's Parquet exports, one view per schema named after it; brings the exports up to date first. Prints a JSON array of rows (--format table|csv for people and spreadsheets)",
    )
    .option("--format <format>", `output format: ${SQL_FORMATS.join(", ")}`, "json")
    .option("--max-rows <n>", "print at most n rows", intFlag("max-rows", 1))
    .option("--timeout-ms <n>", "stop the query after this long (default REM_SQL_TIMEOUT_MS, 30000)", intFlag("timeout-ms", 1))
    .action(async (sql: string, opts: { format: string; maxRows?: number; timeoutMs?: number }, cmd: Command) => {
      if (!(SQL_FORMATS as readonly string[]).includes(opts.format)) {
        throw new RemError("REM_ERR_INVALID_ARGUMENT", `--format must be one of ${SQL_FORMATS.join(", ")}, got ${JSON.stringify(opts.format)}`, { field: "format" });
      }
      const format = opts.format as SqlFormat;
      const { analyticsOf, toCsv, toTable } = await loadSql();
      const r = await withTenant(cmd, "read", (t, config) => analyticsOf(t, config.dataDir).sql(sql, { maxRows: opts.maxRows, timeoutMs: opts.timeoutMs }));
      if (format === "json") printJson(r.rows);
      else process.stdout.write(format === "csv" ? toCsv(r) : toTable(r));
    });
}

function describe(m: Manifest | null, only: readonly string[] | null): object[] {
  return Object.entries(m?.schemas ?? {})
    .filter(([name]) => only === null || only.includes(name))
    .map(([name, s]) => ({
      name,
      files: s.base.length + s.deltas.length,
      base_rows: s.base.reduce((n, f) => n + f.rows, 0),
      delta_files: s.deltas.length,
      delta_rows: s.deltas.reduce((n, f) => n + f.rows, 0),
      bytes: [...s.base, ...s.deltas].reduce((n, f) => n + f.bytes, 0),
      columns: s.columns,
    }));
}

/** DuckDB (a native module of ~200 ms to load) only for the commands that use it, not for every `rem`. */
async function loadSql() {
  const [{ analyticsOf }, { toCsv, toTable }] = await Promise.all([import("../../sql/analytics.js"), import("../../sql/results.js")]);
  return { analyticsOf, toCsv, toTable };
}
