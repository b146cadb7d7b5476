import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DuckDBDataChunk, type DuckDBAppender, type DuckDBType } from "@duckdb/node-api";
import { fileSelectList, ident, literal, sqlType, stagingColumns, type ExportPlan } from "./columns.js";
import type { WriterDb } from "./duck.js";
import { publishFile } from "./files.js";
import { RowBuilder, type ExportRow } from "./rows.js";
import { compileTranscoder, type Transcoder } from "./transcoder.js";

export type { ExportRow } from "./rows.js";

/** A finished Parquet file, relative to the export directory. */
export interface WrittenFile {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
}

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;
/** Rows per part file (one Parquet row group each): one part compresses while the next fills, so even 100k rows overlap. */
export const PART_ROWS = 65_536;

/** How export files are compressed (ZSTD at DuckDB's default level). */
export const PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd";

/**
 * Streams export rows into Parquet part files of up to PART_ROWS rows. Rows
 * are written into DuckDB data chunks (rows.ts, builders.ts) and appended to an
 * in-memory staging table; a full part is written out by COPY (ZSTD) on the
 * second connection while the next part fills, then published atomically
 * under its final name (files.ts).
 *
 * Guarantees: `finish()` resolves once every part is durable under its final
 * name, in order; `abort()` drops the staging table (parts already published
 * are listed by no manifest: the next export run deletes them).
 */
export class ParquetWriter {
  readonly #db: WriterDb;
  readonly #plan: ExportPlan;
  readonly #root: string;
  readonly #tmpDir: string;
  /** File names, relative to the export directory, without the part number and extension. */
  readonly #base: string;
  readonly #rows: RowBuilder;
  /** Generated for the plan on the first stored record (transcoder.ts); null: the builders' generic path. */
  #transcode: Transcoder | null | undefined;
  #part = 0;
  #partRows = 0;
  #table: string | null = null;
  #appender: DuckDBAppender | null = null;
  #types: DuckDBType[] = [];
  #copying: Promise<WrittenFile> | null = null;
  readonly #files: WrittenFile[] = [];
  #total = 0;

  constructor(db: WriterDb, plan: ExportPlan, options: { root: string; tmpDir: string; base: string }) {
    this.#db = db;
    this.#plan = plan;
    this.#root = options.root;
    this.#tmpDir = options.tmpDir;
    this.#base = options.base;
    this.#rows = new RowBuilder(plan);
  }

  get rows(): number {
    return this.#total;
  }

  /** Adds rows; resolves quickly unless a part just filled up and the previous one is still being written. */
  async add(rows: readonly ExportRow[]): Promise<void> {
    for (const r of rows) {
      this.#rows.add(r);
      if (this.#rows.count === CHUNK_ROWS) await this.#flushChunk();
    }
  }

  /** Adds stored entity records (MessagePack) as they are, tombstones skipped (see RowBuilder.addEncoded). */
  async addEncoded(records: readonly Uint8Array[]): Promise<void> {
    if (this.#transcode === undefined) this.#transcode = compileTranscoder(this.#plan, this.#rows);
    const transcode = this.#transcode;
    for (const bytes of records) {
      if (transcode !== null) transcode(bytes as Buffer, true);
      else this.#rows.addEncoded(bytes as Buffer, true);
      if (this.#rows.count === CHUNK_ROWS) await this.#flushChunk();
    }
  }

  /** Writes what is left; returns the published files (at least one, possibly empty, when `always`). */
  async finish(options: { always: boolean }): Promise<WrittenFile[]> {
    if (this.#rows.count > 0) await this.#flushChunk();
    if (this.#table !== null && this.#partRows > 0) await this.#rotate();
    else if (this.#files.length === 0 && this.#copying === null && options.always) {
      await this.#open();
      await this.#rotate();
    }
    if (this.#copying !== null) this.#files.push(await this.#copying);
    this.#copying = null;
    await this.#dropTable();
    return [...this.#files];
  }

  /** Drops the staging table (published files stay: the caller's manifest decides whether they count). */
  async abort(): Promise<void> {
    await this.#copying?.catch(() => undefined);
    this.#copying = null;
    await this.#dropTable().catch(() => undefined);
  }

  async #open(): Promise<void> {
    this.#table = `stage_${randomUUID().replace(/-/g, "")}`;
    const cols = stagingColumns(this.#plan);
    await this.#db.append.run(`CREATE TABLE ${this.#table} (${cols.map((c) => `${ident(c.name)} ${sqlType(c.type)}`).join(", ")})`);
    this.#appender = await this.#db.append.createAppender(this.#table);
    this.#types = cols.map((_, i) => this.#appender!.columnType(i));
    this.#partRows = 0;
  }

  async #dropTable(): Promise<void> {
    this.#appender?.closeSync();
    this.#appender = null;
    if (this.#table !== null) await this.#db.append.run(`DROP TABLE IF EXISTS ${this.#table}`);
    this.#table = null;
  }

  async #flushChunk(): Promise<void> {
    if (this.#table === null) await this.#open();
    const chunk = DuckDBDataChunk.create(this.#types);
    const n = this.#rows.fill(chunk);
    this.#appender!.appendDataChunk(chunk);
    this.#partRows += n;
    this.#total += n;
    if (this.#partRows >= PART_ROWS) await this.#rotate();
  }

  /** Closes the current part and starts writing it out; waits for the previous part's write first (at most one in flight). */
  async #rotate(): Promise<void> {
    const table = this.#table!;
    this.#appender!.closeSync(); // flushes
    this.#appender = null;
    this.#table = null;
    if (this.#copying !== null) this.#files.push(await this.#copying);
    const name = `${this.#base}-${String(this.#part++).padStart(4, "0")}.parquet`;
    const rows = this.#partRows;
    const tmp = join(this.#tmpDir, `${randomUUID()}.parquet`);
    this.#copying = (async () => {
      try {
        await this.#db.copy.run(`COPY (SELECT ${fileSelectList(this.#plan)} FROM ${table}) TO ${literal(tmp)} (${PARQUET_OPTIONS})`);
      } finally {
        await this.#db.copy.run(`DROP TABLE IF EXISTS ${table}`);
      }
      const bytes = await publishFile(tmp, join(this.#root, name));
      return { file: name, rows, bytes };
    })();
    // Not awaited here: the next part fills meanwhile. A failure surfaces in the next rotate or finish.
    this.#copying.catch(() => undefined);
  }
}
