import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { tempDir } from "../../test/support/tmp.js";
import { analyticsOf } from "../../src/sql/analytics.js";
import { atMost, progress, ratio, type Target } from "../lib/report.js";
import type { Suite } from "../lib/suite.js";
import { exportBenchConfig } from "./config.js";
import { exportRuns, incrementalRun, sqlRuns, writeNdjson } from "./measure.js";
import { setupTenant } from "./setup.js";
import { AGGREGATES, SCHEMA } from "./workload.js";

/**
 * `npm run bench -- export [--quick]`: 1M rows (quick: 100k) of a realistic
 * schema in REM, exported to ZSTD Parquet (a full export from the projection
 * store) against DuckDB's own COPY of the same rows from NDJSON in the same
 * run; then `rem sql` aggregates over them, and one incremental export.
 */
export const exportSuite: Suite = {
  name: "export",
  description: "Parquet export vs DuckDB's own NDJSON → Parquet COPY of the same rows; rem sql aggregates; an incremental export",
  async run({ quick, cleanup }) {
    const cfg = exportBenchConfig(quick);
    const loadBefore = loadavg()[0]!;
    const tmp = await tempDir("rem-bench-export-");
    cleanup.add("export temp dir", () => tmp.cleanup());
    progress(`export suite (${cfg.mode}): ${cfg.rows} rows`);
    const { tenant, config, ids } = await setupTenant(tmp.path, cfg);
    cleanup.add("bench tenant", () => tenant.close());

    const ndjson = join(tmp.path, "rows.ndjson");
    const lines = await writeNdjson(tenant, ndjson);
    progress(`wrote ${lines} NDJSON rows for DuckDB's baseline`);
    const runs = await exportRuns(tenant, tmp.path, ndjson, cfg);

    progress("rem sql aggregates");
    const a = analyticsOf(tenant, config.dataDir);
    await a.catchUp();
    const count = (await a.sql(`SELECT count(*) AS n FROM ${SCHEMA}`)).rows[0]?.n;
    if (count !== cfg.rows) throw new Error(`rem sql counted ${String(count)} rows, expected ${cfg.rows}`);
    const byMonth = await sqlRuns(a, AGGREGATES.categoryByMonth, cfg.sqlReps);
    const stats = await sqlRuns(a, AGGREGATES.categoryStats, cfg.sqlReps);
    progress(`aggregates: ${byMonth.ms.median.toFixed(1)} ms (category × month), ${stats.ms.median.toFixed(1)} ms (category stats)`);

    progress(`incremental export after ${cfg.changes} changes`);
    const inc = await incrementalRun(tenant, a, ids, cfg);
    const withDeltas = await sqlRuns(a, AGGREGATES.categoryByMonth, cfg.sqlReps);
    progress(`incremental: ${inc.seconds.toFixed(2)} s; aggregate with a delta: ${withDeltas.ms.median.toFixed(1)} ms`);

    const exportRatio = ratio(runs.rem.median, runs.duckdb.median);
    progress(`export medians: REM ${runs.rem.median.toFixed(2)} s (CPU ${runs.remCpu.median.toFixed(2)} s), DuckDB COPY ${runs.duckdb.median.toFixed(2)} s (CPU ${runs.duckdbCpu.median.toFixed(2)} s): ${exportRatio}x wall, ${ratio(runs.remCpu.median, runs.duckdbCpu.median)}x CPU`);
    const sizeTarget = quick ? 2 : 5; // seed 003: 100k rows < 2 s; this issue: 1M rows ≤ 5 s
    const targets: Record<string, Target> = {
      [`export${quick ? "100k" : "1M"}.seconds`]: atMost(runs.rem.median, sizeTarget, "s"),
      "export.vsDuckDbCopy": atMost(exportRatio, 1.5, "x"),
      "sql.categoryByMonth.ms": atMost(byMonth.ms.median, 100, "ms"),
      "sql.categoryStats.ms": atMost(stats.ms.median, 100, "ms"),
    };
    const failed = Object.entries(targets).filter(([, t]) => !t.pass);
    progress(`targets: ${Object.keys(targets).length - failed.length}/${Object.keys(targets).length} met${failed.length > 0 ? `; missed: ${failed.map(([k]) => k).join(", ")}` : ""}`);
    return {
      suite: "export",
      mode: cfg.mode,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAvg1mBefore: loadBefore, loadAvg1mAfter: loadavg()[0] },
      config: cfg,
      targets,
      allTargetsMet: failed.length === 0,
      export: {
        remSeconds: runs.rem,
        duckdbCopySeconds: runs.duckdb,
        ratio: exportRatio,
        remCpuSeconds: runs.remCpu,
        remJsThreadCpuSeconds: runs.remMainCpu,
        duckdbCopyCpuSeconds: runs.duckdbCpu,
        cpuRatio: ratio(runs.remCpu.median, runs.duckdbCpu.median),
        remRowsPerS: Math.round(cfg.rows / runs.rem.median),
        remBytes: runs.remBytes,
        duckdbBytes: runs.duckdbBytes,
      },
      sql: { categoryByMonthMs: byMonth.ms, categoryByMonthRows: byMonth.rows, categoryStatsMs: stats.ms, categoryByMonthWithDeltaMs: withDeltas.ms },
      incremental: inc,
    };
  },
};
