import type { JsonValue } from "../../events/model/json-value.js";
import { indexValues, scalar } from "../../projections/indexing.js";
import type { IndexValue } from "../../projections/store/keys.js";
import type { EntityRecord } from "../../projections/store/records.js";
import { fieldValue } from "../../projections/view.js";
import type { BoundValue, Column, Literal } from "./ast.js";

const NULL: IndexValue = { t: "null" };

/** A user field's raw value; own properties only, so a field named `constructor` is not Object's. */
export function rawValue(rec: EntityRecord, field: string): JsonValue | undefined {
  return Object.hasOwn(rec.data, field) ? rec.data[field] : undefined;
}

/**
 * The comparable values of a column on an entity — exactly what its field index
 * holds (projections/indexing.ts): one value for a scalar, each element of an
 * array (nulls skipped), [NULL] when missing or null, none for an object.
 */
export function columnValues(col: Column, rec: EntityRecord): IndexValue[] {
  if (col.system) return [systemValue(col.name, rec)];
  return indexValues(col.kind, col.items, rawValue(rec, col.name));
}

function systemValue(name: string, rec: EntityRecord): IndexValue {
  switch (name) {
    case "id":
      return { t: "string", v: rec.id };
    case "entity_type":
      return { t: "string", v: rec.schema };
    case "created_at":
      return { t: "date", v: rec.created_at };
    case "modified_at":
      return { t: "date", v: rec.modified_at };
    default:
      return rec.deleted_at === null ? NULL : { t: "date", v: rec.deleted_at };
  }
}

/** SQL `IS NULL`: the field is missing or JSON null (an empty array or [null] is not NULL). */
export function isNull(col: Column, rec: EntityRecord): boolean {
  if (col.system) return col.name === "deleted_at" && rec.deleted_at === null;
  const v = rawValue(rec, col.name);
  return v === undefined || v === null;
}

/** The value a row sorts by: its single comparable value; NULL when it has none or several (only for data that breaks its schema's type). */
export function sortValue(col: Column, rec: EntityRecord): IndexValue {
  const vs = columnValues(col, rec);
  return vs.length === 1 ? vs[0]! : NULL;
}

/** A column's value as a result row shows it (system fields as in entityView). */
export function outputValue(col: Column, rec: EntityRecord): JsonValue {
  if (!col.system) return rawValue(rec, col.name) ?? null;
  return fieldValue(rec, col.name) ?? null;
}

/** A literal as the column compares it: through `scalar` of the column's (item) kind, so '2024-01-01' on a date column is an instant. */
export function bindLiteral(col: Column, lit: Literal): BoundValue {
  if (lit === null) return null;
  return scalar(col.kind === "array" ? (col.items ?? "any") : col.kind, lit);
}
