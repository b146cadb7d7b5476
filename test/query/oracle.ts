/**
 * An independent model of REM SQL's semantics for the property test: typed
 * values, three-valued logic, ANY-element arrays, LIKE, ORDER BY. Written from
 * the specification, without the engine's evaluator, indexing or comparators.
 */

export type Kind = "string" | "integer" | "number" | "boolean" | "date" | "tags";
export type Scalar = string | number | boolean;
export type Lit = Scalar | null;

/** A typed value: the type decides comparability. */
export type TV = { t: "bool"; v: boolean } | { t: "number"; v: number } | { t: "date"; v: number } | { t: "string"; v: string };

/** The date texts the generators use, with their instants worked out by hand. */
export const DATE_TEXTS: ReadonlyMap<string, number> = new Map([
  ["2024-01-01", Date.UTC(2024, 0, 1)],
  ["2024-01-01T00:00:00Z", Date.UTC(2024, 0, 1)],
  ["2024-01-01T00:00:00.000Z", Date.UTC(2024, 0, 1)],
  ["2024-01-01T01:00:00+01:00", Date.UTC(2024, 0, 1)],
  ["2023-12-31T23:59:59Z", Date.UTC(2023, 11, 31, 23, 59, 59)],
  ["2024-03-05T10:20:30.5Z", Date.UTC(2024, 2, 5, 10, 20, 30, 500)],
  ["2024-06-01", Date.UTC(2024, 5, 1)],
  ["2000-01-01", Date.UTC(2000, 0, 1)],
  ["2100-01-01", Date.UTC(2100, 0, 1)],
]);

function instant(text: string): number | null {
  const known = DATE_TEXTS.get(text);
  if (known !== undefined) return known;
  // system timestamps are rendered by toISOString()
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text) ? Date.parse(text) : null;
}

/** A scalar under a column kind: booleans and numbers keep their type (numbers are instants on dates), strings on date columns are instants when they parse. */
export function typed(kind: Kind, v: Scalar): TV {
  if (typeof v === "boolean") return { t: "bool", v };
  if (typeof v === "number") return kind === "date" ? { t: "date", v } : { t: "number", v };
  if (kind === "date") {
    const ms = instant(v);
    if (ms !== null) return { t: "date", v: ms };
  }
  return { t: "string", v };
}

/** A column's values on a row: null (SQL NULL) for missing/null, else the scalar, or each non-null element of an array. */
export function valuesOf(kind: Kind, raw: unknown): TV[] | null {
  if (raw === undefined || raw === null) return null;
  const itemKind: Kind = kind === "tags" ? "string" : kind;
  if (Array.isArray(raw)) return raw.filter((e): e is Scalar => e !== null && typeof e !== "object").map((e) => typed(itemKind, e));
  return [typed(itemKind, raw as Scalar)];
}

function codePoints(s: string): number[] {
  return [...s].map((c) => c.codePointAt(0)!);
}

const TYPE_RANK = { bool: 0, number: 1, date: 2, string: 3 } as const;

/** Total order of ORDER BY: booleans < numbers < dates < strings < NULL; strings by code point. */
export function cmpSort(a: TV | null, b: TV | null): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
  if (a.t !== b.t) return TYPE_RANK[a.t] - TYPE_RANK[b.t];
  if (a.t === "string") {
    const x = codePoints(a.v);
    const y = codePoints(b.v as string);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  const x = Number(a.v);
  const y = Number(b.v);
  return x < y ? -1 : x > y ? 1 : 0;
}

export type T3 = boolean | null;
const not3 = (t: T3): T3 => (t === null ? null : !t);
const or3 = (ts: T3[]): T3 => (ts.some((t) => t === true) ? true : ts.some((t) => t === null) ? null : false);
const and3 = (ts: T3[]): T3 => (ts.some((t) => t === false) ? false : ts.some((t) => t === null) ? null : true);

/** One value against a literal: NULL on either side is unknown; different types are unequal and unordered. */
function cmp3(e: TV | null, op: string, lit: TV | null): T3 {
  if (e === null || lit === null) return null;
  if (e.t !== lit.t) return op === "!=";
  const c = cmpSort(e, lit);
  return op === "=" ? c === 0 : op === "!=" ? c !== 0 : op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
}

/** LIKE by dynamic programming over code points (% any run, _ one character). */
export function likeMatch(s: string, pattern: string): boolean {
  const t = [...s];
  const p = [...pattern];
  let row = new Array<boolean>(t.length + 1).fill(false);
  row[0] = true;
  for (const pc of p) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    if (pc === "%") {
      let seen = false;
      for (let j = 0; j <= t.length; j++) {
        seen = seen || row[j]!;
        next[j] = seen;
      }
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = row[j - 1]! && (pc === "_" || t[j - 1] === pc);
    }
    row = next;
  }
  return row[t.length]!;
}

/** The test's predicate tree (columns by name). */
export type TP =
  | { k: "cmp"; col: string; op: "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="; lit: Lit }
  | { k: "in"; col: string; lits: Lit[]; neg: boolean }
  | { k: "between"; col: string; lo: Lit; hi: Lit; neg: boolean }
  | { k: "like"; col: string; pat: string | null; neg: boolean }
  | { k: "isnull"; col: string; neg: boolean }
  | { k: "and" | "or"; items: TP[] }
  | { k: "not"; item: TP };

/** A row as the oracle sees it: the kind of each column and its raw value. */
export interface OracleRow {
  readonly id: string;
  kindOf(col: string): Kind;
  raw(col: string): unknown;
}

/** Evaluates a predicate on a row (SQL three-valued logic; arrays match when ANY element does). */
export function holds(p: TP, row: OracleRow): T3 {
  switch (p.k) {
    case "and":
      return and3(p.items.map((i) => holds(i, row)));
    case "or":
      return or3(p.items.map((i) => holds(i, row)));
    case "not":
      return not3(holds(p.item, row));
    case "isnull": {
      const raw = row.raw(p.col);
      return (raw === undefined || raw === null) !== p.neg;
    }
    default:
      break;
  }
  const kind = row.kindOf(p.col);
  const vals: (TV | null)[] = valuesOf(kind, row.raw(p.col)) ?? [null];
  const lit = (l: Lit): TV | null => (l === null ? null : typed(kind === "tags" ? "string" : kind, l));
  const anyOf = (f: (e: TV | null) => T3): T3 => or3(vals.map(f));
  switch (p.k) {
    case "cmp":
      return anyOf((e) => cmp3(e, p.op === "<>" ? "!=" : p.op, lit(p.lit)));
    case "in": {
      const t = anyOf((e) => or3(p.lits.map((l) => cmp3(e, "=", lit(l)))));
      return p.neg ? not3(t) : t;
    }
    case "between": {
      const t = anyOf((e) => and3([cmp3(e, ">=", lit(p.lo)), cmp3(e, "<=", lit(p.hi))]));
      return p.neg ? not3(t) : t;
    }
    case "like": {
      const pat = p.pat;
      const t = anyOf((e) => (e === null || pat === null ? null : e.t === "string" && likeMatch(e.v, pat)));
      return p.neg ? not3(t) : t;
    }
  }
}

/** The value a row sorts by on a (non-array) column. */
export function sortValueOf(row: OracleRow, col: string): TV | null {
  const vals = valuesOf(row.kindOf(col), row.raw(col));
  return vals !== null && vals.length === 1 ? vals[0]! : null;
}

/** Sorts rows by ORDER BY (NULLs last ascending, first descending), ties by id. */
export function sortRows<R extends OracleRow>(rows: R[], order: readonly { col: string; desc: boolean }[]): R[] {
  return [...rows].sort((a, b) => {
    for (const o of order) {
      const c = cmpSort(sortValueOf(a, o.col), sortValueOf(b, o.col));
      if (c !== 0) return o.desc ? -c : c;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

// ---- SQL rendering -------------------------------------------------------------

export function sqlLiteral(l: Lit): string {
  if (l === null) return "NULL";
  if (typeof l === "boolean") return l ? "TRUE" : "FALSE";
  if (typeof l === "number") return String(l);
  return `'${l.replace(/'/g, "''")}'`;
}

/**
 * Renders a predicate. With `minimal`, parentheses only where SQL precedence
 * (NOT > AND > OR) needs them — which exercises the parser's precedence.
 */
export function sqlOf(p: TP, quote: (col: string) => string, minimal: boolean, parent = 0): string {
  const wrap = (s: string, prec: number) => (!minimal || parent > prec ? `(${s})` : s);
  switch (p.k) {
    case "or":
      return wrap(p.items.map((i) => sqlOf(i, quote, minimal, 1)).join(" OR "), 1);
    case "and":
      return wrap(p.items.map((i) => sqlOf(i, quote, minimal, 2)).join(" AND "), 2);
    case "not":
      return `NOT ${sqlOf(p.item, quote, minimal, 3)}`;
    case "cmp":
      return `${quote(p.col)} ${p.op} ${sqlLiteral(p.lit)}`;
    case "in":
      return `${quote(p.col)} ${p.neg ? "NOT IN" : "IN"} (${p.lits.map(sqlLiteral).join(", ")})`;
    case "between":
      return `${quote(p.col)} ${p.neg ? "NOT BETWEEN" : "BETWEEN"} ${sqlLiteral(p.lo)} AND ${sqlLiteral(p.hi)}`;
    case "like":
      return `${quote(p.col)} ${p.neg ? "NOT LIKE" : "LIKE"} ${sqlLiteral(p.pat)}`;
    case "isnull":
      return `${quote(p.col)} IS ${p.neg ? "NOT " : ""}NULL`;
  }
}
