import { join } from "node:path";
import { DELETED_COLUMN, ident, literal } from "./columns.js";
import type { SchemaFiles } from "./manifest.js";

/**
 * The SQL that reads a schema's current rows from its files: what `rem sql`'s
 * view per schema is, and what compaction writes out.
 *
 * Base files hold resolved live rows, so without deltas a view is a plain
 * Parquet scan (aggregates read only the columns they use). With deltas, base
 * rows whose id appears in any delta are dropped (an anti-join on the small
 * delta side), and of the delta rows the newest per id is kept — unless it is a
 * tombstone. The result has one row per live entity, whatever mix of files
 * produced it: that is why an incremental export and a full rebuild answer
 * every query identically.
 */
export function resolvedRowsSql(root: string, s: SchemaFiles): string {
  const base = `read_parquet(${fileList(root, s.base.map((f) => f.file))})`;
  if (s.deltas.length === 0) return `SELECT * EXCLUDE (${DELETED_COLUMN}) FROM ${base}`;
  const deltas = s.deltas.map((d) => `SELECT *, ${d.generation} AS _rem_gen FROM read_parquet(${literal(join(root, d.file))})`).join(" UNION ALL ");
  const deltaIds = `SELECT id FROM read_parquet(${fileList(root, s.deltas.map((d) => d.file))})`;
  return (
    `SELECT * EXCLUDE (${DELETED_COLUMN}) FROM ${base} AS _rem_base ANTI JOIN (${deltaIds}) AS _rem_changed USING (id) ` +
    `UNION ALL ` +
    `SELECT * EXCLUDE (${DELETED_COLUMN}, _rem_gen) FROM (${deltas}) QUALIFY row_number() OVER (PARTITION BY id ORDER BY _rem_gen DESC) = 1 AND NOT ${ident(DELETED_COLUMN)}`
  );
}

/** Every id present in a schema's files (live, stale or tombstoned). */
export function allIdsSql(root: string, s: SchemaFiles): string {
  return `SELECT id FROM read_parquet(${fileList(root, [...s.base, ...s.deltas].map((f) => f.file))})`;
}

export function fileList(root: string, files: readonly string[]): string {
  return `[${files.map((f) => literal(join(root, f))).join(", ")}]`;
}
