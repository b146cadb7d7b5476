import type { IndexValue } from "../../projections/store/keys.js";
import type { FieldKind } from "../../schema/definition.js";
import type { LikePattern } from "./like.js";

/**
 * REM's own query AST: what the SQL parser's output is reduced to. Parsing
 * gives `Query` (column names, SQL literals); binding against a schema gives
 * `BoundQuery` (resolved columns, literals as comparable IndexValues).
 */

/** A SQL literal as written: 'text', a number, TRUE/FALSE, or NULL. */
export type Literal = string | number | boolean | null;

export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** A WHERE condition over columns `C`, literals `V` and LIKE patterns `P`. */
export type Predicate<C = ColumnName, V = Literal, P = string | null> =
  | { readonly kind: "compare"; readonly column: C; readonly op: CompareOp; readonly value: V }
  | { readonly kind: "in"; readonly column: C; readonly values: readonly V[]; readonly negated: boolean }
  | { readonly kind: "between"; readonly column: C; readonly low: V; readonly high: V; readonly negated: boolean }
  | { readonly kind: "like"; readonly column: C; readonly pattern: P; readonly negated: boolean }
  | { readonly kind: "is_null"; readonly column: C; readonly negated: boolean }
  | { readonly kind: "and"; readonly items: readonly Predicate<C, V, P>[] }
  | { readonly kind: "or"; readonly items: readonly Predicate<C, V, P>[] }
  | { readonly kind: "not"; readonly item: Predicate<C, V, P> };

/** A column as written (`quoted`: in double quotes, kept for error hints). */
export interface ColumnName {
  readonly name: string;
  readonly quoted: boolean;
}

export type Projection<C = ColumnName> =
  | { readonly kind: "star" }
  | { readonly kind: "columns"; readonly columns: readonly { readonly column: C; readonly as: string }[] }
  | { readonly kind: "count"; readonly as: string };

export interface OrderItem<C = ColumnName> {
  readonly column: C;
  readonly direction: "asc" | "desc";
}

export interface Query<C = ColumnName, V = Literal, P = string | null> {
  readonly explain: boolean;
  readonly schema: string;
  readonly projection: Projection<C>;
  readonly where: Predicate<C, V, P> | null;
  readonly orderBy: readonly OrderItem<C>[];
  /** null: no LIMIT (or LIMIT ALL) */
  readonly limit: number | null;
  readonly offset: number;
}

/** A column resolved against a schema. `kind`/`items` decide how values compare (see projections/indexing.ts). */
export interface Column {
  readonly name: string;
  readonly kind: FieldKind;
  readonly items: FieldKind | null;
  /** id, entity_type, created_at, modified_at, deleted_at */
  readonly system: boolean;
  /** has a field index in the store (system fields never do) */
  readonly indexed: boolean;
}

/** A bound literal: its comparable value under the column's kind, or null for SQL NULL. */
export type BoundValue = IndexValue | null;

export type BoundPredicate = Predicate<Column, BoundValue, LikePattern | null>;

export interface BoundQuery extends Query<Column, BoundValue, LikePattern | null> {
  /** the query text (for cursor hashes) */
  readonly sql: string;
  readonly indexedFields: readonly string[];
}
