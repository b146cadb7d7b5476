import { createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { DuckDBInstance } from "@duckdb/node-api";
import { ExportProjection } from "../../projections/parquet/export-projection.js";
import { literal } from "../../projections/parquet/columns.js";
import type { Tenant } from "../../src/node/tenant.js";
import type { TenantAnalytics } from "../../src/sql/analytics.js";
import { scanSchemaBatches } from "../../projections/parquet/scan.js";
import { progress } from "../lib/report.js";
import { summarize, type Summary } from "../lib/stats.js";
import { nowMs } from "../lib/timing.js";
import type { ExportBenchConfig } from "./config.js";
import { cpuNow, cpuSince } from "./cpu.js";
import { SCHEMA, upsert } from "./workload.js";

/**
 * The rows DuckDB's baseline copies: the same entities as the export writes
 * (system fields and data), one JSON object per line, read from the store.
 * Not timed.
 */
export async function writeNdjson(tenant: Tenant, path: string): Promise<number> {
  const out = createWriteStream(path);
  let n = 0;
  for await (const batch of scanSchemaBatches(tenant.store, SCHEMA)) {
    let chunk = "";
    for (const r of batch) {
      if (r.deleted_at !== null) continue;
      chunk += JSON.stringify({ id: r.id, entity_type: r.schema, created_at: new Date(r.created_at).toISOString(), modified_at: new Date(r.modified_at).toISOString(), deleted_at: null, ...r.data, _seq: r.seq }) + "\n";
      n++;
    }
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return n;
}

export interface ExportRuns {
  /** Seconds per full export (REM: store → Parquet). */
  readonly rem: Summary;
  /** Seconds per DuckDB COPY of the same rows from NDJSON to ZSTD Parquet. */
  readonly duckdb: Summary;
  /** CPU seconds per REM export: whole process (JS, LevelDB and DuckDB threads), and the JavaScript thread alone. */
  readonly remCpu: Summary;
  readonly remMainCpu: Summary | null;
  /** CPU seconds per DuckDB COPY (DuckDB's threads: nothing else runs in the process meanwhile). */
  readonly duckdbCpu: Summary;
  readonly remBytes: number;
  readonly duckdbBytes: number;
}

/**
 * Full exports of the schema by REM (a fresh export projection each time: scan
 * the store, write ZSTD Parquet parts, publish, manifest) interleaved with
 * DuckDB's own COPY of the same rows from NDJSON, so both see the same machine.
 */
export async function exportRuns(tenant: Tenant, dir: string, ndjson: string, cfg: ExportBenchConfig): Promise<ExportRuns> {
  const rem: number[] = [];
  const duck: number[] = [];
  const remCpu: number[] = [];
  const remMain: number[] = [];
  const duckCpu: number[] = [];
  let remBytes = 0;
  let duckdbBytes = 0;
  const db = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  const conn = await db.connect();
  try {
    for (let rep = 0; rep < cfg.exportReps; rep++) {
      const target = join(dir, `exports-${rep}`);
      const exports = new ExportProjection(tenant, target);
      let cpu = cpuNow();
      let t0 = nowMs();
      const report = await exports.catchUp();
      rem.push((nowMs() - t0) / 1000);
      const used = cpuSince(cpu);
      remCpu.push(used.process);
      if (used.main !== null) remMain.push(used.main);
      const m = await exports.manifest();
      remBytes = m?.schemas[SCHEMA]?.base.reduce((s, f) => s + f.bytes, 0) ?? 0;
      await rm(target, { recursive: true, force: true });
      progress(`rem export ${rep + 1}/${cfg.exportReps}: ${rem[rep]!.toFixed(2)} s, CPU ${used.process.toFixed(2)} s (JS thread ${used.main?.toFixed(2) ?? "?"} s) (${report.mode}, ${(remBytes / 1e6).toFixed(1)} MB)`);

      const out = join(dir, `duckdb-${rep}.parquet`);
      cpu = cpuNow();
      t0 = nowMs();
      await conn.run(`COPY (SELECT * FROM read_json(${literal(ndjson)})) TO ${literal(out)} (FORMAT parquet, COMPRESSION zstd)`);
      duck.push((nowMs() - t0) / 1000);
      duckCpu.push(cpuSince(cpu).process);
      duckdbBytes = (await stat(out)).size;
      await rm(out, { force: true });
      progress(`duckdb COPY from NDJSON ${rep + 1}/${cfg.exportReps}: ${duck[rep]!.toFixed(2)} s, CPU ${duckCpu[rep]!.toFixed(2)} s (${(duckdbBytes / 1e6).toFixed(1)} MB)`);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return { rem: summarize(rem), duckdb: summarize(duck), remCpu: summarize(remCpu), remMainCpu: remMain.length === 0 ? null : summarize(remMain), duckdbCpu: summarize(duckCpu), remBytes, duckdbBytes };
}

/** Milliseconds per `rem sql` call (in-process: export catch-up check, guard, DuckDB, JSON rows), after one warm-up. */
export async function sqlRuns(a: TenantAnalytics, sql: string, reps: number): Promise<{ ms: Summary; rows: number }> {
  const warm = await a.sql(sql);
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = nowMs();
    await a.sql(sql);
    ms.push(nowMs() - t0);
  }
  return { ms: summarize(ms), rows: warm.rows.length };
}

/** An incremental export after `changes` upserts (half updates of existing entities, half new ones). */
export async function incrementalRun(tenant: Tenant, a: TenantAnalytics, ids: readonly string[], cfg: ExportBenchConfig): Promise<{ seconds: number; changed: number; deltaRows: number }> {
  const half = Math.floor(cfg.changes / 2);
  const events = [];
  for (let k = 0; k < half; k++) events.push(upsert(cfg.rows + k, ids[(k * 7919) % ids.length]!));
  for (let k = half; k < cfg.changes; k++) events.push(upsert(cfg.rows + k));
  for (let i = 0; i < events.length; i += cfg.perCommit) await tenant.log.append(events.slice(i, i + cfg.perCommit));
  await tenant.sync();
  const t0 = nowMs();
  const r = await a.catchUp();
  const seconds = (nowMs() - t0) / 1000;
  const m = await a.exports.manifest();
  return { seconds, changed: r.changed, deltaRows: m?.schemas[SCHEMA]?.deltas.reduce((s, f) => s + f.rows, 0) ?? 0 };
}
