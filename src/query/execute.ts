import type { JsonObject } from "../../events/model/json-value.js";
import type { EntityRecord } from "../../projections/store/records.js";
import type { ProjectionStore } from "../../projections/store/store.js";
import { entityView } from "../../projections/view.js";
import { RemError } from "../errors.js";
import { readAccess } from "./access.js";
import type { BoundQuery } from "./ast.js";
import { bindQuery } from "./bind.js";
import { decodeCursor, encodeCursor, queryHash, type CursorPosition } from "./cursor.js";
import { invalidQuery } from "./errors.js";
import { evaluate } from "./evaluate.js";
import { compareKeys, sortKey, type SortKey } from "./order.js";
import { parseQuery } from "./parse.js";
import { planQuery, planRow, type Plan, type Planned } from "./plan.js";
import { outputValue } from "./values.js";

export interface QueryOptions {
  /** `next_cursor` of the previous page of the same query text */
  readonly cursor?: string;
  /** rows per page (≥ 1); default: the LIMIT if given, else every row */
  readonly pageSize?: number;
}

export interface QueryResult {
  /** `SELECT *`: entity views; a column list: those columns (aliases as keys); COUNT(*): one row `{count}`; EXPLAIN: the plan */
  readonly rows: JsonObject[];
  /** COUNT(*) only: the number of matching entities */
  readonly count?: number;
  /** pass back as `cursor` for the next page; null on the last page */
  readonly next_cursor: string | null;
  readonly plan: Plan;
}

/**
 * Runs one REM SQL query on the projection store.
 *
 * Guarantees: rows are exactly the live entities of the schema for which WHERE
 * is TRUE (three-valued logic), in ORDER BY order with ties — and queries
 * without ORDER BY — ordered by id ascending, then OFFSET and LIMIT applied.
 * Whatever the plan, the result is the same as a full scan's. Pages are keyset
 * pages: the next page holds the rows strictly after the previous page's last
 * row, so concatenating the pages of an unchanged store gives the unpaged
 * result. `EXPLAIN SELECT …` returns the plan as its single row.
 *
 * Errors: REM_ERR_QUERY_INVALID (malformed SQL, unknown column, bad cursor),
 * REM_ERR_QUERY_UNSUPPORTED (SQL outside REM's subset), REM_ERR_SCHEMA_NOT_FOUND,
 * REM_ERR_INVALID_ARGUMENT (pageSize).
 */
export async function executeQuery(store: ProjectionStore, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  const q = await bindQuery(store, parseQuery(sql), sql);
  const planned = planQuery(q);
  if (q.explain) return { rows: [planRow(planned.plan)], next_cursor: null, plan: planned.plan };
  if (q.projection.kind === "count") {
    if (options.cursor !== undefined) throw invalidQuery("COUNT(*) returns one row: it takes no cursor");
    let n = 0;
    for await (const _ of matching(store, q, planned, null)) n++;
    // COUNT(*) yields one row, which OFFSET ≥ 1 or LIMIT 0 drop, as in SQL
    return { rows: q.limit === 0 || q.offset > 0 ? [] : [{ [q.projection.as]: n }], count: n, next_cursor: null, plan: planned.plan };
  }
  return select(store, q, planned, options);
}

/** The plan of a query (with or without a leading EXPLAIN), without running it. Same errors as executeQuery. */
export async function explainQuery(store: ProjectionStore, sql: string): Promise<Plan> {
  return planQuery(await bindQuery(store, parseQuery(sql), sql)).plan;
}

async function select(store: ProjectionStore, q: BoundQuery, planned: Planned, options: QueryOptions): Promise<QueryResult> {
  const { pageSize } = options;
  if (pageSize !== undefined && (!Number.isSafeInteger(pageSize) || pageSize < 1)) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `pageSize must be a whole number ≥ 1, got ${String(pageSize)}`, { field: "pageSize" });
  }
  const hash = queryHash(q.sql);
  const pos: CursorPosition | null = options.cursor === undefined ? null : decodeCursor(options.cursor, hash, q.orderBy.length);
  const returned = pos?.returned ?? 0;
  const remaining = q.limit === null ? Infinity : Math.max(0, q.limit - returned);
  const page = Math.min(pageSize ?? Infinity, remaining);
  const skip = pos === null ? q.offset : 0; // a cursor already stands past the OFFSET
  const want = page < remaining ? page + 1 : page; // one more row tells whether another page exists
  const got = page === 0 ? [] : planned.streams ? await streamed(store, q, planned, pos?.key ?? null, skip, want) : await sorted(store, q, planned, pos?.key ?? null, skip, want);

  const rows = got.slice(0, page);
  const last = rows[rows.length - 1];
  const next_cursor = got.length > page && last !== undefined ? encodeCursor(hash, { key: sortKey(q.orderBy, last), returned: returned + rows.length }) : null;
  return { rows: rows.map((rec) => project(q, rec)), next_cursor, plan: planned.plan };
}

/** Rows arrive in result order: take them as they come and stop once `want` are in hand. */
async function streamed(store: ProjectionStore, q: BoundQuery, planned: Planned, after: SortKey | null, skip: number, want: number): Promise<EntityRecord[]> {
  const out: EntityRecord[] = [];
  let skipped = 0;
  // Rows the read should expect to be taken: reads are batched, and a LIMIT should read about what it returns.
  for await (const rec of matching(store, q, planned, after, skip + want)) {
    if (after !== null && compareKeys(q.orderBy, sortKey(q.orderBy, rec), after) <= 0) continue;
    if (skipped < skip) {
      skipped++;
      continue;
    }
    out.push(rec);
    if (out.length >= want) break;
  }
  return out;
}

/** Rows arrive in another order: collect every match after the cursor, sort, cut. */
async function sorted(store: ProjectionStore, q: BoundQuery, planned: Planned, after: SortKey | null, skip: number, want: number): Promise<EntityRecord[]> {
  const all: { rec: EntityRecord; key: SortKey }[] = [];
  for await (const rec of matching(store, q, planned, null)) {
    const key = sortKey(q.orderBy, rec);
    if (after === null || compareKeys(q.orderBy, key, after) > 0) all.push({ rec, key });
  }
  all.sort((a, b) => compareKeys(q.orderBy, a.key, b.key));
  return all.slice(skip, skip + want).map((x) => x.rec);
}

/** Entities the access reads for which the whole WHERE is TRUE (the residual check). */
async function* matching(store: ProjectionStore, q: BoundQuery, planned: Planned, after: SortKey | null, expect?: number): AsyncGenerator<EntityRecord> {
  for await (const rec of readAccess(store, q.schema, planned.access, after, expect)) {
    if (q.where === null || evaluate(q.where, rec) === true) yield rec;
  }
}

function project(q: BoundQuery, rec: EntityRecord): JsonObject {
  if (q.projection.kind !== "columns") return entityView(rec);
  const out: JsonObject = {};
  for (const c of q.projection.columns) out[c.as] = outputValue(c.column, rec);
  return out;
}
