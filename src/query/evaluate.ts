import { compareIndexValues } from "../../projections/indexing.js";
import type { IndexValue } from "../../projections/store/keys.js";
import type { EntityRecord } from "../../projections/store/records.js";
import type { BoundPredicate, BoundValue, CompareOp } from "./ast.js";
import { columnValues, isNull } from "./values.js";

/** SQL's three truth values: null is UNKNOWN. */
export type Truth = boolean | null;

/**
 * Evaluates a WHERE condition on an entity with SQL three-valued logic. A row
 * matches only when this is `true`.
 *
 * - A missing or null field is NULL; any comparison with NULL (either side) is UNKNOWN.
 * - Values compare through compareIndexValues, within one type only: values of
 *   different types are never equal (so `!=` is true) and never ordered (`<` is false).
 * - A column holding several values (an array) satisfies a comparison, IN, BETWEEN or
 *   LIKE when ANY of its values does — as its index, which holds every element.
 *   NOT IN / NOT BETWEEN / NOT LIKE are the negation of that; `!=` is elementwise.
 * - LIKE matches strings only; IS NULL is true for missing/null only.
 */
export function evaluate(p: BoundPredicate, rec: EntityRecord): Truth {
  switch (p.kind) {
    case "and": {
      let result: Truth = true;
      for (const item of p.items) {
        const t = evaluate(item, rec);
        if (t === false) return false;
        if (t === null) result = null;
      }
      return result;
    }
    case "or": {
      let result: Truth = false;
      for (const item of p.items) {
        const t = evaluate(item, rec);
        if (t === true) return true;
        if (t === null) result = null;
      }
      return result;
    }
    case "not":
      return not(evaluate(p.item, rec));
    case "is_null":
      return isNull(p.column, rec) !== p.negated;
    case "compare":
      return any(columnValues(p.column, rec), (e) => compare(e, p.op, p.value));
    case "in": {
      const t = any(columnValues(p.column, rec), (e) => or(p.values.map((v) => compare(e, "=", v))));
      return p.negated ? not(t) : t;
    }
    case "between": {
      const t = any(columnValues(p.column, rec), (e) => and(compare(e, ">=", p.low), compare(e, "<=", p.high)));
      return p.negated ? not(t) : t;
    }
    case "like": {
      const pattern = p.pattern;
      const t = any(columnValues(p.column, rec), (e) => (e.t === "null" || pattern === null ? null : e.t === "string" && pattern.regex.test(e.v)));
      return p.negated ? not(t) : t;
    }
  }
}

/** One value against a literal. */
export function compare(e: IndexValue, op: CompareOp, lit: BoundValue): Truth {
  if (e.t === "null" || lit === null) return null;
  if (e.t !== lit.t) return op === "!=";
  const c = compareIndexValues(e, lit);
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

/** OR over a column's values (none: false). */
function any(values: readonly IndexValue[], test: (e: IndexValue) => Truth): Truth {
  let result: Truth = false;
  for (const e of values) {
    const t = test(e);
    if (t === true) return true;
    if (t === null) result = null;
  }
  return result;
}

function or(ts: readonly Truth[]): Truth {
  return ts.includes(true) ? true : ts.includes(null) ? null : false;
}

function and(a: Truth, b: Truth): Truth {
  return a === false || b === false ? false : a === null || b === null ? null : true;
}

function not(t: Truth): Truth {
  return t === null ? null : !t;
}
