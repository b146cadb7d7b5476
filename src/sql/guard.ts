import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from "@duckdb/node-api";
import { RemError } from "../errors.js";
import { sqlError } from "./errors.js";
import { MAX_SQL_LENGTH } from "./limits.js";

/**
 * Which SQL `rem sql` runs: exactly one read-only statement. Three layers,
 * each enough on its own for the common cases, together for the rest:
 *
 *  1. the first keyword (after comments) must start a query: SELECT, WITH,
 *     VALUES, FROM, TABLE, DESCRIBE, SHOW, SUMMARIZE, PIVOT, UNPIVOT, EXPLAIN or
 *     "(" — so ATTACH, COPY, SET, PRAGMA, INSTALL, LOAD, CREATE … never reach
 *     the engine;
 *  2. DuckDB parses the text: it must be one statement, and the type DuckDB
 *     gives the prepared statement must be SELECT (EXPLAIN only of a SELECT:
 *     EXPLAIN ANALYZE runs its statement). What runs is that prepared
 *     statement, not the text again;
 *  3. the session itself (session.ts) can only read files in the tenant's
 *     export directory and its configuration is locked.
 */

/** Leading keywords of read-only statements. */
const QUERY_STARTS = new Set(["SELECT", "WITH", "VALUES", "FROM", "TABLE", "DESCRIBE", "DESC", "SHOW", "SUMMARIZE", "PIVOT", "UNPIVOT", "EXPLAIN", "("]);

export { MAX_SQL_LENGTH } from "./limits.js";

/** Refuses anything but one read-only statement; returns it prepared (the caller runs and destroys it). */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  if (sql.length > MAX_SQL_LENGTH) throw new RemError("REM_ERR_SQL_LIMIT", `the SQL text is ${sql.length} characters; at most ${MAX_SQL_LENGTH} are accepted`, { field: "sql", limit: "length" });
  const first = firstToken(sql, 0);
  if (first === null) throw new RemError("REM_ERR_SQL_INVALID", "no SQL statement given", { field: "sql" });
  if (!QUERY_STARTS.has(first.word)) {
    // Parsing runs nothing: a typo gets DuckDB's syntax error, a valid statement of another kind is refused.
    await conn.extractStatements(sql).catch((err: unknown) => {
      throw extractError(err);
    });
    throw refused(first.word, `${first.word} statements are not allowed: \`rem sql\` runs one read-only query (SELECT, WITH, EXPLAIN, DESCRIBE…)`);
  }
  const prepared = await prepareOne(conn, sql, first.word);
  const type = prepared.statementType;
  if (type === StatementType.SELECT) return prepared;
  if (type === StatementType.EXPLAIN) {
    // EXPLAIN ANALYZE executes its statement: the explained statement must pass on its own.
    const inner = explained(sql, first.end);
    if (inner !== null) {
      const check = await prepareReadOnly(conn, inner).catch((err: unknown) => {
        prepared.destroySync();
        throw err;
      });
      check.destroySync();
      return prepared;
    }
  }
  prepared.destroySync();
  throw refused(StatementType[type] ?? String(type), `${StatementType[type] ?? "this"} statements are not allowed: \`rem sql\` runs one read-only query`);
}

async function prepareOne(conn: DuckDBConnection, sql: string, first: string): Promise<DuckDBPreparedStatement> {
  let extracted;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (err) {
    throw extractError(err);
  }
  if (extracted.count === 0) throw new RemError("REM_ERR_SQL_INVALID", "no SQL statement given", { field: "sql" });
  if (extracted.count > 1) {
    const hint = first === "PIVOT" ? " (a PIVOT without an IN list makes DuckDB create a type first: list the values, `PIVOT t ON col IN ('a', 'b') USING …`)" : "";
    throw refused("MULTI", `send one statement at a time; this text holds ${extracted.count}${hint}`);
  }
  try {
    return await extracted.prepare(0);
  } catch (err) {
    throw sqlError(err);
  }
}

/** DuckDB failing to split the text: its parser error, or (the binding reports no kind) text that holds no statement. */
function extractError(err: unknown): RemError {
  const e = sqlError(err);
  if (e.code !== "REM_ERR_INTERNAL") return e;
  return new RemError("REM_ERR_SQL_INVALID", "DuckDB found no SQL statement it can read in this text", { field: "sql" }, { cause: err });
}

function refused(statement: string, message: string): RemError {
  return new RemError("REM_ERR_SQL_REFUSED", message, { field: "sql", statement });
}

/**
 * The first token of `sql` from `at`, skipping whitespace, empty statements (`;`) and comments
 * (`-- …` and nested `/* … *\/`): an upper-cased word, or "(".
 */
export function firstToken(sql: string, at: number): { word: string; end: number } | null {
  let i = at;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c) || c === ";") i++; // empty statements are nothing
    else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (sql[i] === "*" && sql[i + 1] === "/") {
          depth--;
          i += 2;
        } else i++;
      }
    } else break;
  }
  if (i >= n) return null;
  if (sql[i] === "(") return { word: "(", end: i + 1 };
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 64));
  if (m === null) return { word: sql[i]!, end: i + 1 };
  return { word: m[0].toUpperCase(), end: i + m[0].length };
}

/** The statement an EXPLAIN explains: what follows EXPLAIN [ANALYZE] [(options)], or null when that cannot be told. */
function explained(sql: string, afterExplain: number): string | null {
  let at = afterExplain;
  let t = firstToken(sql, at);
  if (t !== null && (t.word === "ANALYZE" || t.word === "ANALYSE")) {
    at = t.end;
    t = firstToken(sql, at);
  }
  if (t !== null && t.word === "(" && !QUERY_STARTS.has(firstToken(sql, t.end)?.word ?? "")) {
    // EXPLAIN (FORMAT json) …: the option list holds no parentheses or quotes we need to understand.
    const close = sql.indexOf(")", t.end);
    const options = sql.slice(t.end, close);
    if (close === -1 || /[()'"]/.test(options) || !/^\s*[A-Za-z_]/.test(options)) return null;
    at = close + 1;
  }
  const rest = sql.slice(at);
  return firstToken(rest, 0) === null ? null : rest;
}
