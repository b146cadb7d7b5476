import type { EntityRecord } from "../../projections/store/records.js";
import type { PostingLists } from "../../projections/vectors/postings.js";
import type { Tenant } from "../node/tenant.js";
import { pointRange } from "./access.js";
import type { BoundPredicate } from "./ast.js";
import { bindQuery } from "./bind.js";
import { evaluate } from "./evaluate.js";
import { executeQuery } from "./execute.js";
import { parseQuery } from "./parse.js";
import { planQuery, type Access } from "./plan.js";

/** The entities a search filter matches, as the search needs them. */
export interface FilterMatches {
  /** Matching ids: all of them when there are at most `limit`, else at least `limit`. */
  readonly ids: Iterable<string>;
  /** How many match, capped at `limit`. */
  readonly count: number;
  /** Whether an id matches (checked as the HNSW walk meets it). */
  allow(id: string): boolean;
  /** Every matching id (the exact fallback when a filtered walk finds too few). */
  all(): Promise<Iterable<string>>;
  /** Where they came from: in-memory posting lists, the LevelDB field index, or the SQL engine. */
  readonly source: "postings" | "index" | "sql";
  /** Names exactly this set of ids (from posting lists): lets exact scoring keep the set's vectors as a block. */
  readonly key?: string;
}

export interface CompiledFilter {
  /**
   * The live entities matching the filter, up to `limit` (see FilterMatches).
   * Posting lists answer an exact equality when theirs is ready; the LevelDB
   * index or the SQL engine otherwise. Synchronous from `postings` on: the sets
   * returned are live, so use them before awaiting anything else.
   */
  matches(limit: number, postings: PostingLists | null): Promise<FilterMatches>;
  /** Whether a fetched live record of the schema matches (search hits are re-checked on what was fetched). */
  test(rec: EntityRecord): boolean;
  /** The matches come from an index alone, without each entity fetched and checked. */
  readonly indexOnly: boolean;
}

/** A WHERE predicate, checked by the SQL engine: the same grammar, errors and semantics as `rem query`. */
export async function compileFilter(t: Tenant, schema: string, where: string): Promise<CompiledFilter> {
  const sql = `SELECT id FROM ${schema} WHERE ${where}`;
  const bound = await bindQuery(t.store, parseQuery(sql), sql);
  const predicate = bound.where;
  const equality = exactEquality(predicate, planQuery(bound).access);
  const test = (rec: EntityRecord): boolean => rec.deleted_at === null && (predicate === null || evaluate(predicate, rec) === true);
  // One fetch per id met during a walk, memoised: the filter without posting lists.
  const fetched = (): ((id: string) => boolean) => {
    const seen = new Map<string, boolean>();
    return (id) => {
      let ok = seen.get(id);
      if (ok === undefined) {
        const rec = t.store.getEntityIn(schema, id);
        seen.set(id, (ok = rec !== undefined && test(rec)));
      }
      return ok;
    };
  };
  const fromIds = (ids: string[], source: FilterMatches["source"], all: () => Promise<string[]>): FilterMatches => ({ ids, count: ids.length, allow: fetched(), all, source });
  return {
    indexOnly: equality !== null,
    test,
    async matches(limit, postings) {
      if (equality === null) return fromIds(await sqlIds(t, sql, limit), "sql", () => sqlIds(t, sql, Number.MAX_SAFE_INTEGER));
      const listed = postings?.lookupKeyed(schema, equality.column.name, equality.values) ?? null;
      if (listed !== null) return { ...fromSets(listed.sets, limit), key: listed.key };
      return fromIds(await indexIds(t, schema, equality, limit), "index", () => indexIds(t, schema, equality, Number.MAX_SAFE_INTEGER));
    },
  };
}

/**
 * Matches from posting lists: `field = v` / `field IN (…)` on an indexed field
 * holds exactly the entities whose index entries carry those typed values
 * (evaluate.ts compares within one type, as the index encodes).
 */
function fromSets(sets: readonly ReadonlySet<string>[], limit: number): FilterMatches {
  if (sets.length === 1) {
    const only = sets[0]!;
    return { ids: only, count: Math.min(only.size, limit), allow: (id) => only.has(id), all: async () => only, source: "postings" };
  }
  // An array field may hold several listed values: count each entity once.
  const union = (cap: number): Set<string> => {
    const out = new Set<string>();
    for (const s of sets) {
      for (const id of s) {
        out.add(id);
        if (out.size >= cap) return out;
      }
    }
    return out;
  };
  const some = union(limit);
  return { ids: some, count: some.size, allow: (id) => sets.some((s) => s.has(id)), all: async () => union(Number.POSITIVE_INFINITY), source: "postings" };
}

/** Ids of an exact equality from the LevelDB field index (no entity fetched), up to `limit`. */
async function indexIds(t: Tenant, schema: string, equality: Extract<Access, { kind: "index_eq" | "index_in" }>, limit: number): Promise<string[]> {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const v of equality.values) {
    for await (const { id } of t.store.indexIds(schema, equality.column.name, pointRange(v, null))) {
      if (seen.has(id)) continue; // an array holding several listed values
      seen.add(id);
      ids.push(id);
      if (ids.length >= limit) return ids;
    }
  }
  return ids;
}

/** Ids of any other filter, through the SQL engine in pages, up to `limit`. */
async function sqlIds(t: Tenant, sql: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  while (ids.length < limit) {
    const page = await executeQuery(t.store, sql, { pageSize: Math.min(5000, limit - ids.length), cursor });
    for (const row of page.rows) ids.push(row.id as string);
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
  }
  return ids;
}

/**
 * The point access when the whole WHERE is one equality or IN list on the
 * indexed field that access reads; null otherwise (the SQL engine then fetches
 * and re-checks every candidate).
 */
function exactEquality(where: BoundPredicate | null, access: Access): Extract<Access, { kind: "index_eq" | "index_in" }> | null {
  if (where === null || (access.kind !== "index_eq" && access.kind !== "index_in")) return null;
  const sameColumn = "column" in where && where.column.name === access.column.name && where.column.indexed;
  if (!sameColumn) return null;
  if (where.kind === "compare" && where.op === "=" && where.value !== null) return access;
  if (where.kind === "in" && !where.negated) return access;
  return null;
}
