import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DELETED_COLUMN } from "./columns.js";
import type { WriterDb } from "./duck.js";
import { publishFile } from "./files.js";
import type { FileEntry, SchemaFiles } from "./manifest.js";
import { resolvedRowsSql } from "./views.js";
import { PARQUET_OPTIONS } from "./writer.js";

/** Deltas a schema may pile up before they are folded into a new base. */
export const MAX_DELTAS = 8;
/** …or delta rows, as a share of the base rows (with a floor, so small schemas do not compact on every change). */
const MAX_DELTA_SHARE = 0.2;
const MIN_DELTA_ROWS = 20_000;

/** Whether a schema's deltas should be folded into its base now. */
export function shouldCompact(s: SchemaFiles): boolean {
  if (s.deltas.length === 0) return false;
  if (s.deltas.length > MAX_DELTAS) return true;
  const baseRows = s.base.reduce((n, f) => n + f.rows, 0);
  const deltaRows = s.deltas.reduce((n, f) => n + f.rows, 0);
  return deltaRows > Math.max(MIN_DELTA_ROWS, baseRows * MAX_DELTA_SHARE);
}

/**
 * Rewrites a schema's rows as one base file: the resolved rows (views.ts) —
 * newest row per id, tombstones and superseded rows gone — read from the
 * current files by DuckDB and written out as Parquet, Parquet to Parquet with
 * no JavaScript in between. The caller publishes it in a new manifest and only
 * then deletes the files it replaces, so readers never see a gap.
 */
export async function compactSchema(db: WriterDb, o: { root: string; tmpDir: string; schema: string; files: SchemaFiles; generation: number }): Promise<FileEntry> {
  const tmp = join(o.tmpDir, `${randomUUID()}.parquet`);
  const sql = `COPY (SELECT *, false AS ${DELETED_COLUMN} FROM (${resolvedRowsSql(o.root, o.files)})) TO '${tmp.replace(/'/g, "''")}' (${PARQUET_OPTIONS})`;
  const r = await db.copy.runAndReadAll(sql);
  const rows = Number(r.getRows()[0]?.[0] ?? 0);
  const file = `${o.schema}/g${o.generation}-base-0000.parquet`;
  const bytes = await publishFile(tmp, join(o.root, file));
  return { file, rows, bytes };
}
