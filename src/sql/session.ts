import { availableParallelism } from "node:os";
import { sep } from "node:path";
import { DuckDBInstance, type DuckDBResultReader } from "@duckdb/node-api";
import type { JsonObject } from "../../events/model/json-value.js";
import { ident, literal } from "../../projections/parquet/columns.js";
import type { Manifest } from "../../projections/parquet/manifest.js";
import { resolvedRowsSql } from "../../projections/parquet/views.js";
import { EDGES_VIEW, edgesSql } from "../../projections/parquet/edges.js";
import { sqlError } from "./errors.js";
import { prepareReadOnly } from "./guard.js";
import { toJson, type SqlRows } from "./results.js";

export interface SqlLimits {
  /** Rows returned at most; more are cut and `truncated` is set (Infinity: all). */
  readonly maxRows: number;
  /** A query running longer is interrupted: REM_ERR_SQL_LIMIT. */
  readonly timeoutMs: number;
}

/** Per-session engine limits, from the environment: REM_SQL_MEMORY_LIMIT (default 1GB), REM_SQL_THREADS (default the cores, at most 4). */
function engineSettings(): { memory_limit: string; threads: string } {
  return {
    memory_limit: process.env.REM_SQL_MEMORY_LIMIT ?? "1GB",
    threads: process.env.REM_SQL_THREADS ?? String(Math.min(4, availableParallelism())),
  };
}

/**
 * A DuckDB session over one tenant's exports, locked down before any user SQL
 * reaches it:
 *
 *  - in memory, one view per schema (named after it) over the manifest's files,
 *    and `_edges` over the graph's edges;
 *  - `allowed_directories` = the tenant's export directory, then
 *    `enable_external_access = false`: no file outside it, no network, no
 *    other database can be read or written (DuckDB checks every path, after
 *    resolving `..`);
 *  - no extension is installed or loaded (autoinstall/autoload off; the ones
 *    needed, parquet and json, are built in), no spilling to disk
 *    (temp_directory empty), a memory limit;
 *  - `lock_configuration = true` last, so no statement can undo any of it;
 *  - user SQL passes the statement guard (guard.ts) and runs on a connection
 *    of its own, interrupted at the time limit.
 *
 * A session serves one manifest generation; SessionCache makes a new one when
 * the export changes.
 */
export class SqlSession {
  readonly generation: number;
  readonly #instance: DuckDBInstance;
  #closed = false;

  private constructor(instance: DuckDBInstance, generation: number) {
    this.#instance = instance;
    this.generation = generation;
  }

  static async open(root: string, manifest: Manifest | null): Promise<SqlSession> {
    const instance = await DuckDBInstance.create(":memory:", {
      autoinstall_known_extensions: "false",
      autoload_known_extensions: "false",
      allow_community_extensions: "false",
      allow_unsigned_extensions: "false",
      temp_directory: "",
      max_temp_directory_size: "0B",
      ...engineSettings(),
    });
    try {
      const conn = await instance.connect();
      try {
        await conn.run(`SET allowed_directories = [${literal(root.endsWith(sep) ? root : root + sep)}]`);
        // Exported times are UTC (TIMESTAMP); now() and TIMESTAMPTZ literals compare with them in UTC too.
        await conn.run("SET TimeZone = 'UTC'");
        for (const [name, files] of Object.entries(manifest?.schemas ?? {})) {
          await conn.run(`CREATE VIEW ${ident(name)} AS ${resolvedRowsSql(root, files)}`);
        }
        await conn.run(`CREATE VIEW ${ident(EDGES_VIEW)} AS ${edgesSql(root, manifest)}`);
        await conn.run("SET enable_external_access = false");
        await conn.run("SET lock_configuration = true");
      } finally {
        conn.closeSync();
      }
    } catch (err) {
      instance.closeSync();
      throw err;
    }
    return new SqlSession(instance, manifest?.generation ?? 0);
  }

  /** Runs one read-only statement. Errors: REM_ERR_SQL_REFUSED, REM_ERR_SQL_INVALID, REM_ERR_SQL_LIMIT. */
  async query(sql: string, limits: SqlLimits): Promise<SqlRows> {
    const conn = await this.#instance.connect();
    const timer = setTimeout(() => conn.interrupt(), limits.timeoutMs);
    try {
      const prepared = await prepareReadOnly(conn, sql);
      try {
        const reader = Number.isFinite(limits.maxRows) ? await prepared.streamAndReadUntil(limits.maxRows + 1) : await prepared.streamAndReadAll();
        return rowsOf(reader, limits.maxRows);
      } finally {
        prepared.destroySync();
      }
    } catch (err) {
      throw sqlError(err);
    } finally {
      clearTimeout(timer);
      conn.closeSync();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#instance.closeSync();
  }
}

function rowsOf(reader: DuckDBResultReader, maxRows: number): SqlRows {
  const names = reader.deduplicatedColumnNames();
  const types = reader.columnTypes();
  const all = reader.getRows();
  const truncated = all.length > maxRows;
  const rows: JsonObject[] = [];
  for (let r = 0; r < Math.min(all.length, maxRows); r++) {
    const src = all[r]!;
    const row: JsonObject = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = toJson(src[c]!, types[c]);
    rows.push(row);
  }
  return { columns: names.map((name, i) => ({ name, type: types[i]!.toString() })), rows, truncated };
}

/**
 * The session of the current export generation, shared by concurrent queries;
 * a new generation gets a new session and the old one closes when its last
 * query ends.
 */
export class SessionCache {
  readonly #root: string;
  #current: { session: Promise<SqlSession>; generation: number; users: number } | null = null;
  #retired = new Set<{ session: Promise<SqlSession>; users: number }>();

  constructor(root: string) {
    this.#root = root;
  }

  async use<T>(manifest: Manifest | null, fn: (s: SqlSession) => Promise<T>): Promise<T> {
    const generation = manifest?.generation ?? 0;
    if (this.#current !== null && this.#current.generation !== generation) this.#retire(this.#current);
    if (this.#current === null) {
      const opening = SqlSession.open(this.#root, manifest);
      const entry = { session: opening, generation, users: 0 };
      this.#current = entry;
      opening.catch(() => {
        if (this.#current === entry) this.#current = null;
      });
    }
    const entry = this.#current;
    entry.users++;
    try {
      return await fn(await entry.session);
    } finally {
      entry.users--;
      if (this.#retired.has(entry) && entry.users === 0) await this.#closeEntry(entry);
    }
  }

  /** Closes every session (the tenant is closing; no query is running: the export lock is held). */
  async close(): Promise<void> {
    if (this.#current !== null) this.#retire(this.#current);
    for (const e of [...this.#retired]) if (e.users === 0) await this.#closeEntry(e);
  }

  #retire(entry: { session: Promise<SqlSession>; users: number }): void {
    this.#current = null;
    this.#retired.add(entry);
    if (entry.users === 0) void this.#closeEntry(entry);
  }

  async #closeEntry(entry: { session: Promise<SqlSession>; users: number }): Promise<void> {
    this.#retired.delete(entry);
    try {
      (await entry.session).close();
    } catch {
      // it never opened: nothing to close
    }
  }
}
