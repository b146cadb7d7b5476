import { compareBytes, concat, encValue, prefixEnd, uuidBytes, type IndexValue } from "../../projections/store/keys.js";
import type { EntityRecord } from "../../projections/store/records.js";
import type { IndexRange, ProjectionStore } from "../../projections/store/store.js";
import { MERGE_MAX, yieldsIdOrder, type Access } from "./plan.js";
import type { SortKey } from "./order.js";
import { sortValue } from "./values.js";

type Bound = IndexRange["lower"];

/** Most ids per batched entity read (batches start at what the caller expects to take, and double). */
const FETCH_BATCH = 256;

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
 *
 * Entities found through an index or by id are read in batches (one batched
 * LevelDB read per batch, order kept): the first batch holds `expect` ids — the
 * rows the caller takes if all match — so a LIMIT reads about what it returns.
 */
export async function* readAccess(store: ProjectionStore, schema: string, access: Access, after: SortKey | null, expect = Number.POSITIVE_INFINITY): AsyncGenerator<EntityRecord> {
  const first = Math.max(1, Math.min(FETCH_BATCH, expect));
  const fetch = <T>(chunks: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, idOf: (item: T) => string) => withRecords(store, schema, chunks, idOf, first);
  switch (access.kind) {
    case "scan":
      for await (const rec of store.scanSchema(schema, after?.id)) {
        if (rec.deleted_at === null) yield rec;
      }
      return;
    case "id_lookup":
      for await (const batch of fetch([after === null ? access.ids : access.ids.filter((id) => id > after.id)], same)) for (const [, rec] of batch) yield rec;
      return;
    case "index_eq":
    case "index_in": {
      const field = access.column.name;
      const chunks = (v: IndexValue, afterId: string | null) => idChunks(store.indexIdChunks(schema, field, pointRange(v, afterId)));
      if (access.values.length === 1) {
        for await (const batch of fetch(chunks(access.values[0]!, after?.id ?? null), same)) for (const [, rec] of batch) yield rec;
        return;
      }
      if (access.values.length <= MERGE_MAX) {
        // each value's entries are in id order: merging them keeps id order
        const sources = access.values.map((v) => idsOf(store.indexIds(schema, field, pointRange(v, after?.id ?? null))));
        for await (const batch of fetch(ones(mergeById(sources, same)), same)) for (const [, rec] of batch) yield rec;
        return;
      }
      for await (const batch of fetch(distinct(access.values.map((v) => chunks(v, null))), same)) for (const [, rec] of batch) yield rec;
      return;
    }
    case "index_range":
    case "index_prefix":
      // an array field lists an entity once per element in range
      for await (const batch of fetch(distinct([idChunks(store.indexIdChunks(schema, access.column.name, access.range))]), same)) for (const [, rec] of batch) yield rec;
      return;
    case "index_union": {
      if (yieldsIdOrder(access)) {
        yield* mergeById(
          access.branches.map((b) => readAccess(store, schema, b, after, expect)),
          (rec) => rec.id,
        );
        return;
      }
      const seen = new Set<string>();
      for (const branch of access.branches) {
        for await (const rec of readAccess(store, schema, branch, null, expect)) {
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
      const entries = asc ? store.indexIdChunks(schema, access.column.name, range) : ones(idAscWithinValue(store.indexIds(schema, access.column.name, range, true)));
      for await (const batch of fetch(entries, (e) => e.id)) {
        for (const [{ valueKey }, rec] of batch) {
          // only the entry of the entity's own sort value: skips entries a concurrent
          // write made stale, and extra entries of data that breaks its field's type
          if (compareBytes(encValue(sortValue(access.column, rec)), valueKey) === 0) yield rec;
        }
      }
      return;
    }
  }
}

const same = (id: string): string => id;

/**
 * Items (arriving in chunks) with the records of their ids, in order, one
 * batch at a time: live entities of `schema` only (the index may lag a
 * concurrent write by an instant, so what was fetched is checked). The first
 * batch holds `first` ids, the next ones 1, 2, 4, … up to FETCH_BATCH, so a
 * residual that rejects rows, or a merge looking one row ahead, costs a few
 * more reads, not a whole batch.
 */
async function* withRecords<T>(store: ProjectionStore, schema: string, chunks: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, idOf: (item: T) => string, first: number): AsyncGenerator<[T, EntityRecord][]> {
  let batch: T[] = [];
  let size = first;
  // Past the rows expected, more are wanted only when some were rejected (or to look ahead one): grow from one.
  let next = first >= FETCH_BATCH ? FETCH_BATCH : 1;
  for await (const chunk of chunks) {
    for (const item of chunk) {
      batch.push(item);
      if (batch.length < size) continue;
      yield await liveOf(store, schema, batch, idOf);
      batch = [];
      size = next;
      next = Math.min(FETCH_BATCH, next * 2);
    }
  }
  if (batch.length > 0) yield await liveOf(store, schema, batch, idOf);
}

async function liveOf<T>(store: ProjectionStore, schema: string, batch: readonly T[], idOf: (item: T) => string): Promise<[T, EntityRecord][]> {
  const recs = await store.getEntitiesIn(schema, batch.map(idOf));
  const out: [T, EntityRecord][] = [];
  for (let i = 0; i < batch.length; i++) {
    const rec = recs[i];
    if (rec !== undefined && rec.schema === schema && rec.deleted_at === null) out.push([batch[i]!, rec]);
  }
  return out;
}

/** The ids of index entries, chunk by chunk. */
async function* idChunks(chunks: AsyncIterable<readonly { id: string }[]>): AsyncGenerator<string[]> {
  for await (const chunk of chunks) yield chunk.map((e) => e.id);
}

/** A stream of single items as chunks of one (merges produce them one by one). */
async function* ones<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

/** The id chunks of several streams in turn, each id once (an array holding several listed values, or several elements in range). */
async function* distinct(sources: readonly AsyncGenerator<string[]>[]): AsyncGenerator<string[]> {
  const seen = new Set<string>();
  for (const source of sources) {
    for await (const chunk of source) {
      const fresh: string[] = [];
      for (const id of chunk) {
        if (seen.has(id)) continue;
        seen.add(id);
        fresh.push(id);
      }
      if (fresh.length > 0) yield fresh;
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
