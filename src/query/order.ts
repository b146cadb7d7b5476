import { compareIndexValues } from "../../projections/indexing.js";
import type { IndexValue } from "../../projections/store/keys.js";
import type { EntityRecord } from "../../projections/store/records.js";
import type { Column, OrderItem } from "./ast.js";
import { sortValue } from "./values.js";

/** Where a row sits in a result: its ORDER BY values, then its id (the tie-breaker that makes every order total). */
export interface SortKey {
  readonly values: readonly IndexValue[];
  readonly id: string;
}

export function sortKey(order: readonly OrderItem<Column>[], rec: EntityRecord): SortKey {
  return { values: order.map((o) => sortValue(o.column, rec)), id: rec.id };
}

/**
 * Result order: each ORDER BY column by compareIndexValues (the index's byte
 * order: NULLs last ascending, first descending, as PostgreSQL), then id
 * ascending. Ids are lowercase UUID text, so `<` is their byte order.
 */
export function compareKeys(order: readonly OrderItem<Column>[], a: SortKey, b: SortKey): number {
  for (let i = 0; i < order.length; i++) {
    const c = compareIndexValues(a.values[i]!, b.values[i]!);
    if (c !== 0) return order[i]!.direction === "desc" ? -c : c;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
