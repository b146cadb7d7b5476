import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { layout } from "../config/config.js";
import { RemError } from "../errors.js";
import type { Tenant } from "../node/tenant.js";
import { literal } from "../../projections/parquet/columns.js";
import { openWriterDb } from "../../projections/parquet/duck.js";
import { ExportProjection, type CatchUpOptions, type CatchUpReport } from "../../projections/parquet/export-projection.js";
import { resolvedRowsSql } from "../../projections/parquet/views.js";
import { EDGES_VIEW, edgesSql } from "../../projections/parquet/edges.js";
import { PARQUET_OPTIONS } from "../../projections/parquet/writer.js";
import { SessionCache, type SqlLimits } from "./session.js";
import type { SqlRows } from "./results.js";

/** A `rem sql` answer: the rows, and the commit the exports reflected. */
export interface SqlAnswer extends SqlRows {
  readonly seq: number;
}

/** One schema written by `rem export --output`. */
export interface OutputFile {
  readonly schema: string;
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

/** Defaults: REM_SQL_TIMEOUT_MS (30 s). */
export function defaultTimeoutMs(): number {
  const v = Number(process.env.REM_SQL_TIMEOUT_MS ?? 30_000);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/**
 * A tenant's analytics: its Parquet export projection and the SQL sessions
 * over it. One per open tenant (analyticsOf), closed with the tenant.
 */
export class TenantAnalytics {
  readonly exports: ExportProjection;
  readonly #sessions: SessionCache;

  constructor(tenant: Tenant, dir: string) {
    this.exports = new ExportProjection(tenant, dir);
    this.#sessions = new SessionCache(dir);
  }

  /** Brings the export up to date (see ExportProjection.catchUp). */
  catchUp(options: CatchUpOptions = {}): Promise<CatchUpReport> {
    return this.exports.catchUp(options);
  }

  /**
   * Runs one read-only SQL statement over the tenant's exports, after bringing
   * them up to the projection store's checkpoint: a caller reads its own writes.
   */
  async sql(sql: string, limits: Partial<SqlLimits> = {}): Promise<SqlAnswer> {
    await this.exports.catchUp();
    return this.exports.read(async (m) => {
      const rows = await this.#sessions.use(m, (s) => s.query(sql, { maxRows: limits.maxRows ?? Infinity, timeoutMs: limits.timeoutMs ?? defaultTimeoutMs() }));
      return { ...rows, seq: m?.watermark.seq ?? 0 };
    });
  }

  /**
   * Writes one Parquet file per schema (ZSTD) to `outDir` as `<schema>.parquet`:
   * the schema's current rows, resolved from the export's files by DuckDB
   * (Parquet to Parquet); with "all", the edges too (`_edges.parquet`). Each
   * file is written under a temporary name and renamed.
   */
  async writeOutput(outDir: string, schemas: readonly string[] | "all"): Promise<OutputFile[]> {
    const dir = resolve(outDir);
    await mkdir(dir, { recursive: true });
    return this.exports.read(async (m) => {
      const names = schemas === "all" ? Object.keys(m?.schemas ?? {}) : [...schemas];
      for (const name of names) {
        if (m?.schemas[name] === undefined) throw new RemError("REM_ERR_SCHEMA_NOT_FOUND", `no schema ${JSON.stringify(name)} to export (see \`rem schema list\`)`, { schema: name, field: "schema" });
      }
      const spill = join(this.exports.dir, `.tmp-out-${randomUUID()}`);
      const db = await openWriterDb(spill);
      const out: OutputFile[] = [];
      try {
        for (const name of names) out.push(await writeOne(db.copy, name, resolvedRowsSql(this.exports.dir, m!.schemas[name]!), dir));
        if (schemas === "all") out.push(await writeOne(db.copy, EDGES_VIEW, edgesSql(this.exports.dir, m), dir));
      } finally {
        db.close();
        await rm(spill, { recursive: true, force: true }).catch(() => undefined);
      }
      return out;
    });
  }

  async close(): Promise<void> {
    await this.exports.close();
    await this.#sessions.close();
  }
}

async function writeOne(conn: DuckDBConnection, name: string, rowsSql: string, dir: string): Promise<OutputFile> {
  const path = join(dir, `${name}.parquet`);
  const tmp = join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    const r = await conn.runAndReadAll(`COPY (${rowsSql}) TO ${literal(tmp)} (${PARQUET_OPTIONS})`);
    await rename(tmp, path);
    return { schema: name, path, rows: Number(r.getRows()[0]?.[0] ?? 0), bytes: (await stat(path)).size };
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof RemError) throw err;
    throw new RemError("REM_ERR_EXPORT_FAILED", `cannot write ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
}

const open = new WeakMap<Tenant, TenantAnalytics>();

/** The analytics of an open tenant, made on first use and closed when the tenant closes. */
export function analyticsOf(tenant: Tenant, dataDir: string): TenantAnalytics {
  let a = open.get(tenant);
  if (a === undefined) {
    const made = new TenantAnalytics(tenant, layout.exports(dataDir, tenant.name));
    open.set(tenant, made);
    tenant.onClose(async () => {
      open.delete(tenant);
      await made.close();
    });
    a = made;
  }
  return a;
}
