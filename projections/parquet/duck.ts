import { mkdir } from "node:fs/promises";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

/**
 * The DuckDB instance an export run writes with: in memory, running only SQL
 * that REM builds (never user SQL: that goes to the locked-down session in
 * src/sql/). Two connections, so one part file is being compressed (COPY) while
 * the next part is being appended.
 */
export interface WriterDb {
  readonly instance: DuckDBInstance;
  /** Appenders and DDL. */
  readonly append: DuckDBConnection;
  /** COPY … TO (runs while the append connection fills the next part). */
  readonly copy: DuckDBConnection;
  close(): void;
}

export async function openWriterDb(spillDir: string): Promise<WriterDb> {
  await mkdir(spillDir, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:", {
    // Extensions REM needs (parquet, json) are built in; never fetch or load others.
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    // Spill (large compactions) under the export directory, not in the process's working directory.
    temp_directory: spillDir,
    // File row order carries no meaning (views resolve rows by id); not preserving it lets COPY run in parallel.
    preserve_insertion_order: "false",
  });
  const append = await instance.connect();
  const copy = await instance.connect();
  return {
    instance,
    append,
    copy,
    close() {
      append.closeSync();
      copy.closeSync();
      instance.closeSync();
    },
  };
}
