import sqlParser from "node-sql-parser/build/postgresql.js";
import { invalidQuery, unsupported } from "./errors.js";

/** A node of node-sql-parser's AST, read defensively (its published types are loose). */
export type RawNode = { readonly [key: string]: unknown };

export function isNode(v: unknown): v is RawNode {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// The PostgreSQL build only: it is a fraction of the all-dialects bundle, and its
// double-quoted identifiers and single-quoted strings are what REM SQL uses.
const parser = new sqlParser.Parser();
const OPTIONS = { database: "PostgresQL", parseOptions: { includeLocations: true } };

const EXPLAIN = /^\s*EXPLAIN\b\s*/i;

/**
 * Parses one SQL statement with node-sql-parser. A leading EXPLAIN is taken off
 * first (the PostgreSQL grammar has no EXPLAIN). Malformed SQL is
 * REM_ERR_QUERY_INVALID with line, column and offset; several statements are
 * REM_ERR_QUERY_UNSUPPORTED. `base` is where the parsed text starts in `sql`.
 */
export function parseStatement(sql: string): { explain: boolean; statement: RawNode; base: number } {
  const m = EXPLAIN.exec(sql);
  const body = m === null ? sql : sql.slice(m[0].length);
  if (body.trim() === "") throw invalidQuery(m === null ? "the query is empty; write a SELECT statement" : "EXPLAIN needs a SELECT statement after it");
  if (m !== null && /^(ANALYZE|VERBOSE|\()/i.test(body)) throw unsupported("EXPLAIN options (ANALYZE, VERBOSE, …)");
  let ast: unknown;
  try {
    ast = parser.astify(body, OPTIONS);
  } catch (err) {
    throw syntaxError(sql, m === null ? 0 : m[0].length, err);
  }
  const statements = Array.isArray(ast) ? ast : [ast];
  if (statements.length === 0) throw invalidQuery("the query holds no statement; write a SELECT statement");
  if (statements.length > 1) throw unsupported(`Several statements in one query (found ${statements.length})`);
  const statement: unknown = statements[0];
  if (!isNode(statement)) throw invalidQuery("the SQL parser returned no statement");
  return { explain: m !== null, statement, base: m === null ? 0 : m[0].length };
}

function syntaxError(sql: string, base: number, err: unknown) {
  const e = err as { message?: string; location?: { start?: { offset?: number } }; found?: string | null };
  const local = e.location?.start?.offset;
  if (typeof local !== "number") return invalidQuery(`malformed SQL: ${e.message ?? String(err)}`);
  const offset = base + local;
  const before = sql.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  const found = e.found === null || e.found === undefined ? "the end of the query" : JSON.stringify(e.found);
  const near = sql.slice(Math.max(0, offset - 20), offset + 20).replace(/\s+/g, " ");
  return invalidQuery(`malformed SQL at line ${line}, column ${column}: unexpected ${found} near "${near}" (a column named like an SQL keyword needs double quotes, e.g. "order")`, { line, column, offset });
}
