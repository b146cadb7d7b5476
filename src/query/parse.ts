import { RemError } from "../errors.js";
import type { ColumnName, CompareOp, Literal, OrderItem, Predicate, Projection, Query } from "./ast.js";
import { invalidQuery, unsupported } from "./errors.js";
import { isNode, parseStatement, type RawNode } from "./sql-parser.js";
import { fixPrecedence } from "./precedence.js";

const cache = new Map<string, Query>();
const CACHE_MAX = 256;

/**
 * Parses REM SQL into REM's AST. Syntax only: schemas and columns are checked
 * by `bindQuery`. Throws REM_ERR_QUERY_INVALID (malformed SQL, bad LIMIT…) or
 * REM_ERR_QUERY_UNSUPPORTED (joins, GROUP BY, functions, writes…). Results
 * are cached by text: a Query is immutable.
 */
export function parseQuery(sql: string): Query {
  const hit = cache.get(sql);
  if (hit !== undefined) return hit;
  const { explain, statement, base } = parseStatement(sql);
  let query: Query;
  try {
    query = toQuery(statement, explain);
  } catch (err) {
    throw base === 0 ? err : shiftPosition(err, sql, base);
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(sql, query);
  return query;
}

/** Positions in parser nodes count from after a removed EXPLAIN: make them positions in the query text. */
function shiftPosition(err: unknown, sql: string, base: number): unknown {
  if (!(err instanceof RemError) || typeof err.details.offset !== "number") return err;
  const offset = err.details.offset + base;
  const before = sql.slice(0, offset);
  Object.assign(err.details, { offset, line: before.split("\n").length, column: offset - before.lastIndexOf("\n") });
  return err;
}

/** Keys of a parsed SELECT that REM understands; anything else set means a clause REM does not run. */
const SELECT_KEYS = new Set(["with", "type", "options", "distinct", "columns", "into", "from", "where", "groupby", "having", "orderby", "limit", "window", "_orderby", "_limit", "loc", "parentheses_symbol", "_parentheses"]);

function toQuery(s: RawNode, explain: boolean): Query {
  const type = typeof s.type === "string" ? s.type : "unknown";
  if (type !== "select") throw unsupported(`${type.toUpperCase()} statements (REM SQL is read-only: write through the event log)`);
  if (present(s.with)) throw unsupported("WITH (common table expressions)");
  if (present(s._next) || present(s.set_op)) throw unsupported("UNION / INTERSECT / EXCEPT");
  if (isNode(s.distinct) && present(s.distinct.type)) throw unsupported("SELECT DISTINCT");
  if (present(s.options)) throw unsupported("SELECT options");
  if (isNode(s.into) && present(s.into.position)) throw unsupported("SELECT INTO");
  if (isNode(s.groupby) ? present(s.groupby.columns) : present(s.groupby)) throw unsupported("GROUP BY");
  if (present(s.having)) throw unsupported("HAVING");
  if (present(s.window)) throw unsupported("WINDOW");
  for (const [k, v] of Object.entries(s)) {
    if (!SELECT_KEYS.has(k) && present(v)) throw unsupported(`The ${k.toUpperCase()} clause`);
  }
  const { schema, alias } = fromClause(s.from);
  const scope = new Set([schema, ...(alias === null ? [] : [alias])]);
  const col = (node: unknown, where: string) => columnRef(node, scope, where);
  const orderby = s.orderby ?? s._orderby;
  if (present(s.orderby) && present(s._orderby)) throw invalidQuery("ORDER BY is given twice");
  const { limit, offset } = limitClause(s.limit, s._limit);
  return {
    explain,
    schema,
    projection: projection(s.columns, scope),
    where: present(s.where) ? predicate(s.where, col) : null,
    orderBy: Array.isArray(orderby) ? orderby.map((o) => orderItem(o, col)) : [],
    limit,
    offset,
  };
}

/** Non-empty: not null/undefined/false/"" and not an empty array. */
function present(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== null && v !== undefined && v !== false && v !== "";
}

function fromClause(from: unknown): { schema: string; alias: string | null } {
  if (!Array.isArray(from) || from.length === 0) throw unsupported("A SELECT without FROM; name a schema: SELECT * FROM schema");
  if (from.length > 1) {
    const second: unknown = from[1];
    throw unsupported(isNode(second) && present(second.join) ? `${String(second.join)}` : "Several tables in FROM (a join)");
  }
  const t: unknown = from[0];
  if (!isNode(t) || present(t.expr) || t.type === "dual") throw unsupported("A subquery or expression in FROM");
  if (present(t.join) || present(t.on) || present(t.using)) throw unsupported("JOIN");
  if (present(t.db) || present(t.schema)) throw unsupported(`A qualified table name (${String(t.db ?? t.schema)}.${String(t.table)}); name the schema alone`);
  if (typeof t.table !== "string") throw unsupported("This FROM clause");
  return { schema: t.table, alias: typeof t.as === "string" ? t.as : null };
}

function projection(columns: unknown, scope: ReadonlySet<string>): Projection {
  if (!Array.isArray(columns) || columns.length === 0) throw invalidQuery("SELECT needs a column list, * or COUNT(*)");
  const items = columns.map((c: unknown) => {
    if (!isNode(c)) throw unsupported("This select list");
    const expr = c.expr;
    const as = aliasOf(c.as);
    if (isNode(expr) && expr.type === "column_ref" && expr.column === "*") {
      checkQualifier(expr.table, scope);
      if (as !== null) throw invalidQuery("* cannot have an alias");
      return { kind: "star" as const };
    }
    if (isNode(expr) && expr.type === "aggr_func") {
      const args = isNode(expr.args) ? expr.args : {};
      const arg = args.expr;
      if (String(expr.name).toUpperCase() === "COUNT" && isNode(arg) && arg.type === "star" && !present(args.distinct) && !present(expr.over) && !present(args.orderby)) {
        return { kind: "count" as const, as: as ?? "count" };
      }
      throw unsupported(`The aggregate ${String(expr.name).toUpperCase()}(…) (only COUNT(*) is)`, locOf(expr));
    }
    if (isNode(expr) && expr.type === "column_ref") {
      const column = columnRef(expr, scope, "the select list");
      return { kind: "column" as const, column, as: as ?? column.name };
    }
    throw unsupported("An expression or function in the select list (name columns, or use * or COUNT(*))", locOf(expr));
  });
  const first = items[0]!;
  if (items.length === 1 && first.kind !== "column") return first;
  if (items.some((i) => i.kind === "star")) throw unsupported("* together with other select items");
  if (items.some((i) => i.kind === "count")) throw unsupported("COUNT(*) together with columns (that needs GROUP BY)");
  return { kind: "columns", columns: items.flatMap((i) => (i.kind === "column" ? [{ column: i.column, as: i.as }] : [])) };
}

function aliasOf(as: unknown): string | null {
  if (typeof as === "string") return as;
  if (isNode(as) && typeof as.value === "string") return as.value;
  return null;
}

function checkQualifier(table: unknown, scope: ReadonlySet<string>): void {
  if (table === null || table === undefined) return;
  if (typeof table !== "string" || !scope.has(table)) throw invalidQuery(`unknown table ${JSON.stringify(table)} in a column reference; the query reads only ${[...scope].map((s) => JSON.stringify(s)).join(" / ")}`);
}

/** A column reference, or REM_ERR_QUERY_UNSUPPORTED when the node is anything else. */
function columnRef(node: unknown, scope: ReadonlySet<string>, where: string): ColumnName {
  if (!isNode(node) || node.type !== "column_ref") throw unsupported(`An expression in ${where} (write a column name)`, locOf(node));
  checkQualifier(node.table, scope);
  const c = node.column;
  if (typeof c === "string") {
    if (c === "*") throw invalidQuery(`* is not a column in ${where}`);
    return { name: c, quoted: false };
  }
  if (isNode(c) && isNode(c.expr) && typeof c.expr.value === "string") return { name: c.expr.value, quoted: c.expr.type === "double_quote_string" };
  throw unsupported(`This column reference in ${where}`);
}

function orderItem(o: unknown, col: (n: unknown, where: string) => ColumnName): OrderItem {
  if (!isNode(o)) throw unsupported("This ORDER BY item");
  if (present(o.nulls)) throw unsupported("NULLS FIRST / NULLS LAST (NULLs sort last ascending and first descending, as in PostgreSQL)");
  if (isNode(o.expr) && (o.expr.type === "number" || o.expr.type === "bigint")) throw unsupported("ORDER BY a column position; name the column");
  const dir = typeof o.type === "string" ? o.type.toUpperCase() : "ASC";
  return { column: col(o.expr, "ORDER BY"), direction: dir === "DESC" ? "desc" : "asc" };
}

function limitClause(main: unknown, trailing: unknown): { limit: number | null; offset: number } {
  let limit: number | null | undefined;
  let offset: number | undefined;
  // The grammar takes `LIMIT n [OFFSET m]` per select and again after it (`_limit`), so
  // `OFFSET 5 LIMIT 10` arrives split in two: merge, refusing a clause given twice.
  for (const clause of [main, trailing]) {
    if (!isNode(clause) || !Array.isArray(clause.value) || clause.value.length === 0) continue;
    const values: unknown[] = clause.value;
    const hasOffset = clause.seperator === "offset";
    const limitNode = hasOffset ? (values.length === 2 ? values[0] : undefined) : values[0];
    const offsetNode = hasOffset ? values[values.length - 1] : undefined;
    if (limitNode !== undefined) {
      if (limit !== undefined) throw invalidQuery("LIMIT is given twice");
      limit = isNode(limitNode) && limitNode.type === "origin" && String(limitNode.value).toLowerCase() === "all" ? null : count(limitNode, "LIMIT");
    }
    if (offsetNode !== undefined) {
      if (offset !== undefined) throw invalidQuery("OFFSET is given twice");
      offset = count(offsetNode, "OFFSET");
    }
  }
  return { limit: limit ?? null, offset: offset ?? 0 };
}

function count(node: unknown, what: string): number {
  const v = literal(node);
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw invalidQuery(`${what} must be a whole number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

// ---- WHERE ---------------------------------------------------------------------

const COMPARE: Readonly<Record<string, CompareOp>> = { "=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };
const FLIP: Readonly<Record<CompareOp, CompareOp>> = { "=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

type ColFn = (node: unknown, where: string) => ColumnName;

function predicate(node: unknown, col: ColFn): Predicate {
  if (!isNode(node)) throw unsupported("This WHERE condition");
  if (node.type === "binary_expr" && (node.operator === "AND" || node.operator === "OR")) {
    return fixPrecedence(node, (operand) => predicate(operand, col));
  }
  if (node.type === "unary_expr" && node.operator === "NOT") return { kind: "not", item: predicate(node.expr, col) };
  // `NOT (…)` arrives as a call of a function named NOT
  if (node.type === "function" && functionName(node) === "NOT" && isNode(node.args) && Array.isArray(node.args.value) && node.args.value.length === 1) {
    return { kind: "not", item: predicate(node.args.value[0], col) };
  }
  if (node.type === "expr_list") throw invalidQuery("a WHERE condition cannot be a comma-separated list; join conditions with AND or OR");
  if (node.type !== "binary_expr" || typeof node.operator !== "string") {
    throw unsupported(`The WHERE condition ${describe(node)} (a condition compares a column with a literal)`, locOf(node));
  }
  const op = node.operator.toUpperCase();
  const loc = locOf(node);
  const compareOp = COMPARE[op];
  if (compareOp !== undefined) {
    if (isColumn(node.left)) return { kind: "compare", column: col(node.left, "WHERE"), op: compareOp, value: literalOperand(node.right, op) };
    if (isColumn(node.right)) return { kind: "compare", column: col(node.right, "WHERE"), op: FLIP[compareOp], value: literalOperand(node.left, op) };
    throw unsupported(`The comparison ${describe(node.left)} ${op} ${describe(node.right)} (one side must be a column, the other a literal)`, loc);
  }
  switch (op) {
    case "IN":
    case "NOT IN":
      return { kind: "in", column: col(node.left, `${op}`), values: list(node.right, op).map((v) => literalOperand(v, op)), negated: op === "NOT IN" };
    case "BETWEEN":
    case "NOT BETWEEN": {
      const [low, high] = list(node.right, op);
      return { kind: "between", column: col(node.left, op), low: literalOperand(low, op), high: literalOperand(high, op), negated: op === "NOT BETWEEN" };
    }
    case "LIKE":
    case "NOT LIKE": {
      if (isNode(node.right) && present(node.right.escape)) throw unsupported("LIKE … ESCAPE (the escape character is \\)", loc);
      const pattern = literalOperand(node.right, op);
      if (pattern !== null && typeof pattern !== "string") throw invalidQuery(`${op} needs a string pattern, got ${JSON.stringify(pattern)}`, loc);
      return { kind: "like", column: col(node.left, op), pattern, negated: op === "NOT LIKE" };
    }
    case "IS":
    case "IS NOT": {
      if (!isNode(node.right) || node.right.type !== "null") throw unsupported(`${op} ${describe(node.right)} (only IS NULL and IS NOT NULL are)`, loc);
      return { kind: "is_null", column: col(node.left, op), negated: op === "IS NOT" };
    }
    default:
      throw unsupported(`The operator ${op}`, loc);
  }
}

function isColumn(node: unknown): boolean {
  return isNode(node) && node.type === "column_ref";
}

function functionName(node: RawNode): string {
  const name = isNode(node.name) ? node.name.name : node.name;
  if (Array.isArray(name)) return name.map((n: unknown) => (isNode(n) ? String(n.value) : String(n))).join(".").toUpperCase();
  return String(name).toUpperCase();
}

function list(node: unknown, op: string): unknown[] {
  if (!isNode(node) || node.type !== "expr_list" || !Array.isArray(node.value)) throw unsupported(`${op} with a subquery or expression (write a list of literals)`);
  const values: unknown[] = node.value;
  if (values.some((v) => isNode(v) && isNode(v.ast))) throw unsupported(`A subquery in ${op}`);
  if ((op === "BETWEEN" || op === "NOT BETWEEN") && values.length !== 2) throw invalidQuery(`${op} needs two bounds: x BETWEEN low AND high`);
  return values;
}

function literalOperand(node: unknown, op: string): Literal {
  if (isNode(node) && node.type === "column_ref") {
    const c = node.column;
    const quoted = isNode(c) && isNode(c.expr) && c.expr.type === "double_quote_string";
    throw unsupported(`Comparing two columns (${op} ${describe(node)})${quoted ? "; strings take single quotes: 'text'" : ""}`, locOf(node));
  }
  return literal(node);
}

/** A literal node as a JS value; REM_ERR_QUERY_UNSUPPORTED for expressions, parameters and typed literals. */
function literal(node: unknown): Literal {
  if (!isNode(node)) throw unsupported("This value");
  switch (node.type) {
    case "single_quote_string":
    case "string":
      // the parser keeps SQL's doubled quote: 'it''s' arrives as it''s
      return String(node.value).replace(/''/g, "'");
    case "number":
    case "bigint": {
      const n = Number(node.value);
      if (!Number.isFinite(n)) throw invalidQuery(`the number ${String(node.value)} is out of range`, locOf(node));
      return n;
    }
    case "bool":
    case "boolean":
      return node.value === true || String(node.value).toUpperCase() === "TRUE";
    case "null":
      return null;
    case "unary_expr": {
      const inner = node.operator === "-" || node.operator === "+" ? literal(node.expr) : undefined;
      if (typeof inner === "number") return node.operator === "-" ? -inner : inner;
      throw unsupported(`The expression ${describe(node)} (write a literal)`, locOf(node));
    }
    case "date":
    case "time":
    case "timestamp":
    case "datetime":
      throw unsupported(`A typed literal (${String(node.type).toUpperCase()} '…'); write the instant as a string, e.g. '2024-05-01T00:00:00Z'`, locOf(node));
    case "param":
    case "var":
      throw unsupported("Query parameters; write literals into the query", locOf(node));
    default:
      throw unsupported(`The value ${describe(node)} (literals are 'strings', numbers, TRUE, FALSE and NULL)`, locOf(node));
  }
}

/** A short human description of a parser node for error messages. */
function describe(node: unknown): string {
  if (!isNode(node)) return String(node);
  switch (node.type) {
    case "column_ref":
      return isNode(node.column) && isNode(node.column.expr) ? String(node.column.expr.value) : String(node.column);
    case "function":
      return `${functionName(node)}(…)`;
    case "aggr_func":
      return `${String(node.name)}(…)`;
    case "binary_expr":
      return `(${describe(node.left)} ${String(node.operator)} ${describe(node.right)})`;
    case "cast":
      return "a CAST (::)";
    case "case":
      return "a CASE expression";
    default:
      return "value" in node && (typeof node.value === "string" || typeof node.value === "number" || typeof node.value === "boolean") ? String(node.value) : String(node.type);
  }
}

function locOf(node: unknown): { offset?: number; line?: number; column?: number } {
  if (!isNode(node) || !isNode(node.loc) || !isNode(node.loc.start)) return {};
  const s = node.loc.start;
  return typeof s.offset === "number" ? { offset: s.offset, line: Number(s.line), column: Number(s.column) } : {};
}
