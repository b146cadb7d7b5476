import { randomUUID } from "node:crypto";
import { DuckDBTimestampValue } from "@duckdb/node-api";
import { join } from "node:path";
import { unpack, type EdgeRecord } from "../store/records.js";
import type { ProjectionStore } from "../store/store.js";
import { literal } from "./columns.js";
import type { WriterDb } from "./duck.js";
import { publishFile } from "./files.js";
import type { FileEntry, Manifest } from "./manifest.js";
import { fileList } from "./views.js";
import { PARQUET_OPTIONS } from "./writer.js";

/**
 * The graph's edges as one more export table (`_edges` in `rem sql`; schema
 * names start with a letter, so it cannot collide with one). Edges are few
 * next to entities and change in small numbers, so the table is rewritten
 * whole whenever a commit in the range touched edges, rather than kept as
 * deltas. Columns: src, dst (UUID), type, props (JSON), created_at (UTC
 * TIMESTAMP), one row per edge the projection store holds — joins with the
 * schema views keep only live endpoints.
 */
export const EDGES_VIEW = "_edges";
export const EDGES_DIR = "_edges";

const COLUMNS = "src UUID, dst UUID, type VARCHAR, props JSON, created_at TIMESTAMP";

/** Writes every edge of the store to `_edges/g<generation>.parquet` (an empty file when there are none). */
export async function writeEdges(db: WriterDb, store: ProjectionStore, o: { root: string; tmpDir: string; generation: number }): Promise<FileEntry[]> {
  const table = `edges_${randomUUID().replace(/-/g, "")}`;
  await db.append.run(`CREATE TABLE ${table} (${COLUMNS})`);
  let rows = 0;
  try {
    const app = await db.append.createAppender(table);
    try {
      const it = store.edges.iterator();
      try {
        for (;;) {
          const batch = await it.nextv(2048);
          if (batch.length === 0) break;
          for (const [, v] of batch) {
            const e = unpack<EdgeRecord>(v);
            app.appendVarchar(e.src);
            app.appendVarchar(e.dst);
            app.appendVarchar(e.type);
            app.appendVarchar(JSON.stringify(e.props));
            app.appendTimestamp(new DuckDBTimestampValue(BigInt(e.created_at) * 1000n));
            app.endRow();
            rows++;
          }
        }
      } finally {
        await it.close();
      }
    } finally {
      app.closeSync();
    }
    const name = `${EDGES_DIR}/g${o.generation}.parquet`;
    const tmp = join(o.tmpDir, `${randomUUID()}.parquet`);
    await db.append.run(`COPY ${table} TO ${literal(tmp)} (${PARQUET_OPTIONS})`);
    const bytes = await publishFile(tmp, join(o.root, name));
    return [{ file: name, rows, bytes }];
  } finally {
    await db.append.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** The `_edges` view: the manifest's edge files, or an empty table of the same columns before the first export. */
export function edgesSql(root: string, m: Manifest | null): string {
  const files = m?.edges?.files ?? [];
  if (files.length === 0) return "SELECT NULL::UUID AS src, NULL::UUID AS dst, NULL::VARCHAR AS type, NULL::JSON AS props, NULL::TIMESTAMP AS created_at WHERE false";
  return `SELECT src, dst, type, props, created_at FROM read_parquet(${fileList(root, files.map((f) => f.file))})`;
}
