import type { JsonObject, JsonValue } from "../../events/model/json-value.js";
import { UUID_PATTERN } from "../../events/model/events.js";
import { compareIndexValues } from "../../projections/indexing.js";
import { TAG, concat, encString, encValue, indexValueToJson, type IndexValue } from "../../projections/store/keys.js";
import type { IndexRange } from "../../projections/store/store.js";
import type { BoundPredicate, BoundQuery, Column, OrderItem } from "./ast.js";

/** How rows are fetched. */
export type AccessKind = "index_eq" | "index_in" | "index_range" | "index_prefix" | "index_order" | "index_union" | "id_lookup" | "scan";

export interface PlanBound {
  readonly value: JsonValue;
  readonly inclusive: boolean;
}

/** The index an access reads (for id_lookup, `field` is "id" and `values` the ids; for index_union, the fields of its branches). */
export interface PlanIndex {
  readonly field: string;
  /** index_union: the access of each OR branch */
  readonly union?: readonly { readonly access: AccessKind; readonly index: PlanIndex | null }[];
  /** index_eq / index_in / id_lookup: the values looked up (null: IS NULL) */
  readonly values?: readonly JsonValue[];
  /** index_prefix (and index_order under a LIKE): the literal prefix scanned */
  readonly prefix?: string;
  /** index_range / index_order: the bounds scanned (null: open) */
  readonly range?: { readonly lower: PlanBound | null; readonly upper: PlanBound | null };
  /** index_order: the direction the index is read */
  readonly direction?: "asc" | "desc";
}

/**
 * What EXPLAIN returns: how a query will run.
 *
 * - `access`: "scan" reads every entity of the schema (the fallback when no
 *   top-level AND term can use an index); the others read an index or ids.
 * - `residual`: the whole WHERE is re-checked on every fetched entity (always, when
 *   there is a WHERE), so an index access can only narrow what is read.
 * - `order`: "index" — rows come from the access already in result order (and
 *   reading stops after OFFSET+LIMIT rows); "memory" — matching rows are
 *   collected and sorted (without ORDER BY: by id, the default result order);
 *   "none" — no ORDER BY, rows stream in id order.
 * - `estimated_rows`: an upper bound on the rows returned when one is known
 *   without reading data (LIMIT, id lookups, COUNT); null otherwise.
 */
export interface Plan {
  readonly schema: string;
  readonly access: AccessKind;
  readonly index: PlanIndex | null;
  readonly residual: boolean;
  readonly order: "index" | "memory" | "none";
  readonly limit: number | null;
  readonly offset: number;
  readonly estimated_rows: number | null;
  /** one sentence on why this access was chosen */
  readonly note: string;
}

/** The access path the executor runs. Index ranges are in store terms (encoded values). */
export type Access =
  | { readonly kind: "scan" }
  | { readonly kind: "id_lookup"; readonly ids: readonly string[] }
  | { readonly kind: "index_eq" | "index_in"; readonly column: Column; readonly values: readonly IndexValue[] }
  | { readonly kind: "index_range" | "index_prefix"; readonly column: Column; readonly range: IndexRange; readonly index: PlanIndex }
  | { readonly kind: "index_order"; readonly column: Column; readonly range: IndexRange; readonly direction: "asc" | "desc"; readonly index: PlanIndex }
  | { readonly kind: "index_union"; readonly branches: readonly Access[] };

export interface Planned {
  readonly access: Access;
  readonly plan: Plan;
  /** the access yields rows in result order, so the executor streams and stops early */
  readonly streams: boolean;
}

/** IN lists up to this size are merged in id order (one iterator per value); longer ones are collected and sorted. */
export const MERGE_MAX = 32;

interface RangeBound {
  readonly value: IndexValue;
  readonly inclusive: boolean;
}

/** An index access one top-level AND term allows. */
type Candidate =
  | { readonly kind: "id"; readonly ids: readonly string[] }
  | { readonly kind: "eq"; readonly column: Column; readonly value: IndexValue }
  | { readonly kind: "in"; readonly column: Column; readonly values: readonly IndexValue[] }
  | { readonly kind: "prefix"; readonly column: Column; readonly prefix: string }
  | { readonly kind: "range"; readonly column: Column; readonly lower: RangeBound | null; readonly upper: RangeBound | null }
  | { readonly kind: "null"; readonly column: Column };

/**
 * Chooses the access for a bound query, among its top-level AND terms:
 * `id =` / `id IN` (direct lookups) beat everything; then an indexed equality,
 * then IN (a union of point lookups), then — when ORDER BY is a single indexed
 * scalar field and there is no equality — reading that index in order (under a
 * range or LIKE prefix on the same field if there is one; otherwise only with a
 * LIMIT or when nothing else is indexable); then a LIKE prefix, then a range,
 * then IS NULL; then a top-level OR term whose every branch has one of those
 * accesses (their union, deduplicated by id); otherwise a full scan.
 * Deterministic: the same query on the same schema always gets the same plan.
 */
export function planQuery(q: BoundQuery): Planned {
  const terms = q.where === null ? [] : conjuncts(q.where);
  const access = choose(q, terms.flatMap(candidatesOf), terms);
  const streams = deliversOrder(access, q.orderBy);
  const count = q.projection.kind === "count";
  const order = count || (q.orderBy.length === 0 && streams) ? "none" : streams ? "index" : "memory";
  return { access, streams, plan: { schema: q.schema, access: access.kind, index: describeIndex(access), residual: q.where !== null, order, limit: q.limit, offset: q.offset, estimated_rows: estimate(q, access), note: noteFor(q, access) } };
}

/** Top-level AND terms (nested ANDs flattened). */
export function conjuncts(p: BoundPredicate): BoundPredicate[] {
  return p.kind === "and" ? p.items.flatMap(conjuncts) : [p];
}

/**
 * Scalar kinds hold one value per entity, so two bounds on them may be intersected
 * and their index read in order. (This relies on entities matching their schema's
 * declared types, as validated writes do: an array stored in a scalar-typed field
 * by an unvalidated event could be missed by an intersected range.)
 */
function isScalar(c: Column): boolean {
  return c.kind === "string" || c.kind === "number" || c.kind === "integer" || c.kind === "boolean" || c.kind === "date";
}

function candidatesOf(p: BoundPredicate): Candidate[] {
  if (p.kind === "compare" || p.kind === "in") {
    if (p.column.name === "id" && (p.kind === "in" ? !p.negated : p.op === "=")) {
      const vals = p.kind === "in" ? p.values : [p.value];
      const ids = [...new Set(vals.flatMap((v) => (v !== null && v.t === "string" && UUID_PATTERN.test(v.v) ? [v.v] : [])))].sort();
      return [{ kind: "id", ids }];
    }
  }
  if (p.kind === "and" || p.kind === "or" || p.kind === "not" || !p.column.indexed) return [];
  const column = p.column;
  switch (p.kind) {
    case "compare": {
      const v = p.value;
      if (v === null) return []; // `x op NULL` is never true; the residual returns nothing
      switch (p.op) {
        case "=":
          return [{ kind: "eq", column, value: v }];
        case "<":
        case "<=":
          return [{ kind: "range", column, lower: null, upper: { value: v, inclusive: p.op === "<=" } }];
        case ">":
        case ">=":
          return [{ kind: "range", column, lower: { value: v, inclusive: p.op === ">=" }, upper: null }];
        default:
          return [];
      }
    }
    case "in": {
      if (p.negated) return [];
      const values = p.values.filter((v): v is IndexValue => v !== null).sort(compareIndexValues);
      return [{ kind: "in", column, values: values.filter((v, i) => i === 0 || compareIndexValues(values[i - 1]!, v) !== 0) }];
    }
    case "between":
      if (p.negated || p.low === null || p.high === null || p.low.t !== p.high.t) return [];
      return [{ kind: "range", column, lower: { value: p.low, inclusive: true }, upper: { value: p.high, inclusive: true } }];
    case "like":
      return !p.negated && p.pattern !== null && p.pattern.prefix !== "" ? [{ kind: "prefix", column, prefix: p.pattern.prefix }] : [];
    case "is_null":
      return p.negated ? [] : [{ kind: "null", column }];
    default:
      return [];
  }
}

function finder(cs: readonly Candidate[]) {
  return <K extends Candidate["kind"]>(kind: K, column?: string) => cs.find((c): c is Extract<Candidate, { kind: K }> => c.kind === kind && (column === undefined || ("column" in c && c.column.name === column)));
}

function choose(q: BoundQuery, cs: readonly Candidate[], terms: readonly BoundPredicate[]): Access {
  const find = finder(cs);
  const point = pointAccess(cs);
  if (point !== null) return point;

  const ordered = orderColumn(q.orderBy);
  if (ordered !== null && ordered.column.indexed && isScalar(ordered.column) && q.projection.kind !== "count") {
    const f = ordered.column.name;
    const prefix = find("prefix", f);
    const range = rangeFor(cs, f);
    const isNull = find("null", f);
    const direction = ordered.direction;
    const own: { range: IndexRange; index: PlanIndex } | null = prefix
      ? { range: prefixRange(prefix.prefix), index: { field: f, direction, prefix: prefix.prefix } }
      : range
        ? { range: range.range, index: { field: f, direction, range: range.bounds } }
        : isNull
          ? { range: nullRange(), index: { field: f, direction, values: [null] } }
          : null;
    const other = narrowAccess(cs) !== null || unionAccess(terms) !== null;
    if (own !== null || q.limit !== null || !other) return { kind: "index_order", column: ordered.column, direction, ...(own ?? { range: FULL, index: { field: f, direction } }) };
  }
  return narrowAccess(cs) ?? unionAccess(terms) ?? { kind: "scan" };
}

/** id lookups, an equality, an IN list: the most selective accesses. */
function pointAccess(cs: readonly Candidate[]): Access | null {
  const find = finder(cs);
  const id = find("id");
  if (id) return { kind: "id_lookup", ids: id.ids };
  const eq = find("eq");
  if (eq) return { kind: "index_eq", column: eq.column, values: [eq.value] };
  const inList = find("in");
  if (inList) return { kind: "index_in", column: inList.column, values: inList.values };
  return null;
}

/** A LIKE prefix, a range, IS NULL. */
function narrowAccess(cs: readonly Candidate[]): Access | null {
  const find = finder(cs);
  const prefix = find("prefix");
  if (prefix) return { kind: "index_prefix", column: prefix.column, range: prefixRange(prefix.prefix), index: { field: prefix.column.name, prefix: prefix.prefix } };
  const firstRange = find("range");
  if (firstRange) {
    const { range, bounds } = rangeFor(cs, firstRange.column.name)!;
    return { kind: "index_range", column: firstRange.column, range, index: { field: firstRange.column.name, range: bounds } };
  }
  const isNull = find("null");
  if (isNull) return { kind: "index_eq", column: isNull.column, values: [{ t: "null" }] };
  return null;
}

/**
 * A top-level OR term whose every branch has an index access: the union of those
 * accesses holds every row the term allows (so every row of the WHERE).
 */
function unionAccess(terms: readonly BoundPredicate[]): Access | null {
  for (const t of terms) {
    if (t.kind !== "or") continue;
    const branches = t.items.map((item) => {
      const cs = conjuncts(item).flatMap(candidatesOf);
      return pointAccess(cs) ?? narrowAccess(cs);
    });
    if (branches.every((b): b is Access => b !== null)) return { kind: "index_union", branches };
  }
  return null;
}

/** Whether an access yields its entities in id order (then unions of it merge in id order too). */
export function yieldsIdOrder(a: Access): boolean {
  switch (a.kind) {
    case "scan":
    case "id_lookup":
      return true;
    case "index_eq":
    case "index_in":
      return a.values.length <= MERGE_MAX;
    case "index_union":
      return a.branches.every(yieldsIdOrder);
    default:
      return false;
  }
}

/** The column a single-key ORDER BY sorts on (a trailing `id ASC` changes nothing: ties already go by id). */
function orderColumn(order: readonly OrderItem<Column>[]): OrderItem<Column> | null {
  const first = order[0];
  if (first === undefined || first.column.name === "id") return null;
  const second = order[1];
  if (order.length === 1 || (second !== undefined && second.column.name === "id" && second.direction === "asc")) return first;
  return null;
}

/** Whether the access yields rows in the query's result order (ORDER BY …, id). */
function deliversOrder(access: Access, order: readonly OrderItem<Column>[]): boolean {
  const first = order[0];
  const byId = first === undefined || (first.column.name === "id" && first.direction === "asc");
  if (access.kind === "index_order") {
    const o = orderColumn(order);
    return o !== null && o.column.name === access.column.name && o.direction === access.direction;
  }
  return byId && yieldsIdOrder(access);
}

// ---- index ranges ----------------------------------------------------------------

const FULL: IndexRange = { lower: null, upper: null };

/** First and one-past-last tag byte of each type's values in an index. */
const TYPE_SPAN: Readonly<Record<Exclude<IndexValue["t"], "null">, readonly [number, number]>> = {
  bool: [TAG.false, TAG.true + 1],
  number: [TAG.number, TAG.number + 1],
  date: [TAG.date, TAG.date + 1],
  string: [TAG.string, TAG.string + 1],
};

/**
 * The index range of the range terms on one field. On a scalar field all terms
 * of the first term's type are intersected; on an array field only the first
 * term is used, since two terms may be met by different elements. Either way
 * the range holds every entity the terms allow (the residual does the rest).
 */
function rangeFor(cs: readonly Candidate[], field: string): { range: IndexRange; bounds: { lower: PlanBound | null; upper: PlanBound | null } } | null {
  const terms = cs.filter((c): c is Extract<Candidate, { kind: "range" }> => c.kind === "range" && c.column.name === field);
  const first = terms[0];
  if (first === undefined) return null;
  const type = (first.lower ?? first.upper)!.value.t as Exclude<IndexValue["t"], "null">;
  let lower: RangeBound | null = null;
  let upper: RangeBound | null = null;
  for (const t of isScalar(first.column) ? terms : [first]) {
    if (t.lower !== null && t.lower.value.t === type && (lower === null || tighter(t.lower, lower, 1))) lower = t.lower;
    if (t.upper !== null && t.upper.value.t === type && (upper === null || tighter(t.upper, upper, -1))) upper = t.upper;
  }
  const [lo, hi] = TYPE_SPAN[type];
  const describe = (b: RangeBound | null): PlanBound | null => (b === null ? null : { value: indexValueToJson(b.value), inclusive: b.inclusive });
  return {
    range: {
      lower: lower === null ? { key: new Uint8Array([lo]), inclusive: true } : { key: encValue(lower.value), inclusive: lower.inclusive },
      upper: upper === null ? { key: new Uint8Array([hi]), inclusive: false } : { key: encValue(upper.value), inclusive: upper.inclusive },
    },
    bounds: { lower: describe(lower), upper: describe(upper) },
  };
}

/** Whether bound `a` excludes more than `b` (sign 1: lower bounds, -1: upper bounds). */
function tighter(a: RangeBound, b: RangeBound, sign: 1 | -1): boolean {
  const c = compareIndexValues(a.value, b.value) * sign;
  return c > 0 || (c === 0 && !a.inclusive && b.inclusive);
}

/** Every string starting with `prefix`: its encoding without the terminator, as both bounds. */
function prefixRange(prefix: string): IndexRange {
  const enc = encString(prefix);
  const key = concat(new Uint8Array([TAG.string]), enc.subarray(0, enc.length - 2));
  return { lower: { key, inclusive: true }, upper: { key, inclusive: true } };
}

function nullRange(): IndexRange {
  const key = new Uint8Array([TAG.null]);
  return { lower: { key, inclusive: true }, upper: { key, inclusive: true } };
}

// ---- EXPLAIN -----------------------------------------------------------------------

function describeIndex(a: Access): PlanIndex | null {
  switch (a.kind) {
    case "scan":
      return null;
    case "id_lookup":
      return { field: "id", values: a.ids };
    case "index_eq":
    case "index_in":
      return { field: a.column.name, values: a.values.map(indexValueToJson) };
    case "index_union": {
      const union = a.branches.map((b) => ({ access: b.kind, index: describeIndex(b) }));
      return { field: [...new Set(union.map((u) => u.index?.field ?? ""))].join(", "), union };
    }
    default:
      return a.index;
  }
}

function estimate(q: BoundQuery, a: Access): number | null {
  if (q.projection.kind === "count") return q.limit === 0 || q.offset > 0 ? 0 : 1;
  let bound: number | null = a.kind === "id_lookup" ? a.ids.length : (a.kind === "index_eq" || a.kind === "index_in") && a.values.length === 0 ? 0 : null;
  if (bound !== null) bound = Math.max(0, bound - q.offset);
  if (q.limit !== null) bound = bound === null ? q.limit : Math.min(bound, q.limit);
  return bound;
}

function noteFor(q: BoundQuery, a: Access): string {
  switch (a.kind) {
    case "scan": {
      const indexed = q.indexedFields.length === 0 ? `schema ${q.schema} has no indexed fields` : `indexed fields: ${q.indexedFields.join(", ")}`;
      return `full scan of every ${q.schema} entity: no top-level AND term can use an index (${indexed}; id = / id IN are direct lookups)`;
    }
    case "id_lookup":
      return "direct lookup by id";
    case "index_eq":
      return a.values[0]?.t === "null" ? `IS NULL lookup in the index on ${a.column.name}` : `equality lookup in the index on ${a.column.name}`;
    case "index_in":
      return `${a.values.length} point lookups in the index on ${a.column.name}, merged`;
    case "index_prefix":
      return `LIKE prefix range in the index on ${a.column.name}`;
    case "index_range":
      return `range read of the index on ${a.column.name}`;
    case "index_order":
      return `reads the index on ${a.column.name} in ORDER BY order${q.limit !== null ? `, stopping after OFFSET+LIMIT = ${q.offset + q.limit} rows` : ""}`;
    case "index_union":
      return `union of ${a.branches.length} index accesses, one per OR branch, without repeats${yieldsIdOrder(a) ? " (merged in id order)" : ""}`;
  }
}

/** The plan as a JSON row (EXPLAIN's result). */
export function planRow(plan: Plan): JsonObject {
  return { schema: plan.schema, access: plan.access, index: plan.index === null ? null : indexRow(plan.index), residual: plan.residual, order: plan.order, limit: plan.limit, offset: plan.offset, estimated_rows: plan.estimated_rows, note: plan.note };
}

function indexRow(index: PlanIndex): JsonObject {
  const bound = (b: PlanBound | null): JsonObject | null => (b === null ? null : { value: b.value, inclusive: b.inclusive });
  return {
    field: index.field,
    ...(index.values !== undefined ? { values: [...index.values] } : {}),
    ...(index.prefix !== undefined ? { prefix: index.prefix } : {}),
    ...(index.range !== undefined ? { range: { lower: bound(index.range.lower), upper: bound(index.range.upper) } } : {}),
    ...(index.direction !== undefined ? { direction: index.direction } : {}),
    ...(index.union !== undefined ? { union: index.union.map((u) => ({ access: u.access, index: u.index === null ? null : indexRow(u.index) })) } : {}),
  };
}
