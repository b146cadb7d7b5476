import { compareBytes, concat, encValue, prefixEnd, uuidBytes, type IndexValue } from "../../projections/store/keys.js";
import type { EntityRecord } from "../../projections/store/records.js";
import type { IndexRange, ProjectionStore } from "../../projections/store/store.js";
import { MERGE_MAX, yieldsIdOrder, type Access } from "./plan.js";
import type { SortKey } from "./order.js";
import { sortValue } from "./values.js";

type Bound = IndexRange["lower"];

/**
 * The entities an access reads, live and of `schema` only; the WHERE is not
 * applied here. Each entity comes at most once. Order: id order when
 * `yieldsIdOrder(access)` (scan, id_lookup, index_eq/index_in up to MERGE_MAX
 * values, unions of those); (value, id) for index_order (DESC: value
 * descending, id ascending); unspecified otherwise.
 *
 * `after` (a cursor position, only passed when the access yields result order)
 * lets the read start near it instead of at the beginning; rows at or before it
 * may still come, and the caller drops them.
 */
export async function* readAccess(store: ProjectionStore, schema: string, access: Access, after: SortKey | null): AsyncGenerator<EntityRecord> {
  const get = (id: string): EntityRecord | null => {
    // One get: the schema is known. (An id of another schema simply is not under this prefix.)
    const rec = store.getEntityIn(schema, id);
    // the index may lag a concurrent write by an instant: check what was fetched
    return rec !== undefined && rec.schema === schema && rec.deleted_at === null ? rec : null;
  };
  switch (access.kind) {
    case "scan":
      for await (const rec of store.scanSchema(schema, after?.id)) {
        if (rec.deleted_at === null) yield rec;
      }
      return;
    case "id_lookup":
      for (const id of access.ids) {
        if (after !== null && id <= after.id) continue;
        const rec = get(id);
        if (rec !== null) yield rec;
      }
      return;
    case "index_eq":
    case "index_in": {
      const field = access.column.name;
      if (access.values.length <= MERGE_MAX) {
        // each value's entries are in id order: merging them keeps id order
        const sources = access.values.map((v) => idsOf(store.indexIds(schema, field, pointRange(v, after?.id ?? null))));
        for await (const id of mergeById(sources, (id) => id)) {
          const rec = get(id);
          if (rec !== null) yield rec;
        }
        return;
      }
      const seen = new Set<string>();
      for (const v of access.values) {
        for await (const { id } of store.indexIds(schema, field, pointRange(v, null))) {
          if (seen.has(id)) continue; // an array holding several listed values
          seen.add(id);
          const rec = get(id);
          if (rec !== null) yield rec;
        }
      }
      return;
    }
    case "index_range":
    case "index_prefix": {
      const seen = new Set<string>(); // an array field lists an entity once per element in range
      for await (const { id } of store.indexIds(schema, access.column.name, access.range)) {
        if (seen.has(id)) continue;
        seen.add(id);
        const rec = get(id);
        if (rec !== null) yield rec;
      }
      return;
    }
    case "index_union": {
      if (yieldsIdOrder(access)) {
        yield* mergeById(
          access.branches.map((b) => readAccess(store, schema, b, after)),
          (rec) => rec.id,
        );
        return;
      }
      const seen = new Set<string>();
      for (const branch of access.branches) {
        for await (const rec of readAccess(store, schema, branch, null)) {
          if (seen.has(rec.id)) continue; // in several branches
          seen.add(rec.id);
          yield rec;
        }
      }
      return;
    }
    case "index_order": {
      const asc = access.direction === "asc";
      const range = after === null ? access.range : resumeRange(access.range, after, asc);
      const entries = store.indexIds(schema, access.column.name, range, !asc);
      for await (const { id, valueKey } of asc ? entries : idAscWithinValue(entries)) {
        const rec = get(id);
        // only the entry of the entity's own sort value: skips entries a concurrent
        // write made stale, and extra entries of data that breaks its field's type
        if (rec !== null && compareBytes(encValue(sortValue(access.column, rec)), valueKey) === 0) yield rec;
      }
      return;
    }
  }
}

/** One value's entries, optionally only those after id `afterId`. */
export function pointRange(v: IndexValue, afterId: string | null): IndexRange {
  const key = encValue(v);
  return { lower: afterId === null ? { key, inclusive: true } : { key: concat(key, uuidBytes(afterId)), inclusive: false }, upper: { key, inclusive: true } };
}

/** Narrows an index_order range to start at the cursor's value (its group is re-read; the caller drops rows up to the cursor). */
function resumeRange(range: IndexRange, after: SortKey, asc: boolean): IndexRange {
  const v = after.values[0];
  if (v === undefined) return range;
  if (asc) return { lower: maxLower(range.lower, { key: concat(encValue(v), uuidBytes(after.id)), inclusive: false }), upper: range.upper };
  return { lower: range.lower, upper: minUpper(range.upper, { key: encValue(v), inclusive: true }) };
}

/** The later of two lower bounds, as an inclusive start key (null: open). */
function maxLower(a: Bound, b: Bound): Bound {
  const start = (x: Bound) => (x === null ? null : x.inclusive ? x.key : prefixEnd(x.key));
  const sa = start(a);
  const sb = start(b);
  if (sa === null) return sb === null ? null : { key: sb, inclusive: true };
  if (sb === null) return { key: sa, inclusive: true };
  return { key: compareBytes(sa, sb) >= 0 ? sa : sb, inclusive: true };
}

/** The earlier of two upper bounds, as an exclusive end key (null: open). */
function minUpper(a: Bound, b: Bound): Bound {
  const end = (x: Bound) => (x === null ? null : x.inclusive ? prefixEnd(x.key) : x.key);
  const ea = end(a);
  const eb = end(b);
  if (ea === null) return eb === null ? null : { key: eb, inclusive: false };
  if (eb === null) return { key: ea, inclusive: false };
  return { key: compareBytes(ea, eb) <= 0 ? ea : eb, inclusive: false };
}

async function* idsOf(entries: AsyncGenerator<{ id: string }>): AsyncGenerator<string> {
  for await (const e of entries) yield e.id;
}

/** Merges streams ordered by id into one, without repeats. Closes every source when the consumer stops. */
async function* mergeById<T>(sources: AsyncGenerator<T>[], idOf: (item: T) => string): AsyncGenerator<T> {
  try {
    const heads = await Promise.all(sources.map((s) => s.next()));
    let last: string | null = null;
    for (;;) {
      let min = -1;
      let minId = "";
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h.done) continue;
        const id = idOf(h.value);
        if (min < 0 || id < minId) [min, minId] = [i, id];
      }
      if (min < 0) return;
      const item = heads[min]!.value as T;
      heads[min] = await sources[min]!.next();
      if (minId !== last) yield item;
      last = minId;
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}

/**
 * A reverse index read gives (value desc, id desc); results order ties by id
 * ascending, so each run of equal values is buffered and flipped.
 */
async function* idAscWithinValue(entries: AsyncGenerator<{ id: string; valueKey: Uint8Array }>): AsyncGenerator<{ id: string; valueKey: Uint8Array }> {
  let group: { id: string; valueKey: Uint8Array }[] = [];
  for await (const e of entries) {
    if (group.length > 0 && compareBytes(group[0]!.valueKey, e.valueKey) !== 0) {
      yield* group.reverse();
      group = [];
    }
    group.push(e);
  }
  yield* group.reverse();
}
