import { envCount } from "../env.js";
import { encValue, prefixEnd, uuidText, type IndexValue } from "../store/keys.js";
import type { PostingChange, SchemaMark } from "../store/records.js";
import type { ProjectionStore } from "../store/store.js";

/**
 * Entries (entity, value) held over all of a tenant's posting lists before a
 * list is refused, each distinct value counting VALUE_WEIGHT more (measured:
 * ~90 bytes per entry with its id string, ~270 when every value has its own
 * set; ~360 MB at the default). Past it, filtered search reads the LevelDB
 * index. `REM_POSTING_MAX_ENTRIES` changes it (0: no posting lists).
 */
export const POSTING_MAX_ENTRIES = envCount(process.env.REM_POSTING_MAX_ENTRIES) ?? 4_000_000;

/** What a distinct value's own set and map entry cost, in entries (~180 bytes). */
const VALUE_WEIGHT = 2;

/** Index keys read per iterator step while building a list. */
const BUILD_CHUNK = 1024;

const listKey = (schema: string, field: string): string => `${schema}\u0000${field}`;

/** A value as its index encoding (latin1): two values share a list exactly when the LevelDB index puts them under one key. */
export function valueKey(v: IndexValue): string {
  const e = encValue(v);
  return Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString("latin1");
}

/** A counter shared by a tenant's lists: every change to a value's set takes the next number. */
interface Clock {
  now: number;
}

/** One field's lists: encoded value → ids of the live entities whose field holds it. */
class FieldPostings {
  readonly byValue = new Map<string, Set<string>>();
  /** Per value, the clock at its set's last change: equal versions mean equal sets (absent: empty). */
  readonly versions = new Map<string, number>();
  readonly #clock: Clock;
  entries = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(value: string, id: string): void {
    let ids = this.byValue.get(value);
    if (ids === undefined) this.byValue.set(value, (ids = new Set()));
    const before = ids.size;
    ids.add(id);
    if (ids.size === before) return;
    this.entries++;
    this.versions.set(value, ++this.#clock.now);
  }

  remove(value: string, id: string): void {
    const ids = this.byValue.get(value);
    if (ids === undefined || !ids.delete(id)) return;
    this.entries--;
    if (ids.size === 0) {
      this.byValue.delete(value);
      this.versions.delete(value);
    } else {
      this.versions.set(value, ++this.#clock.now);
    }
  }

  apply(c: PostingChange): void {
    if (c.add) this.add(valueKey(c.value), c.id);
    else this.remove(valueKey(c.value), c.id);
  }

  /** Its size against the bound: entries, plus each value's own set. */
  get weight(): number {
    return this.entries + VALUE_WEIGHT * this.byValue.size;
  }
}

interface Build {
  /** Changes applied while the store was scanned, replayed over the scan in order. */
  readonly buffer: PostingChange[];
  done: Promise<void>;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * In-memory posting lists for the indexed fields of schemas with embedding
 * fields: per (schema, field, value), the ids of the live entities the LevelDB
 * field index lists under that value. Filtered search takes its selectivity
 * estimate and exact-scan candidates from them instead of iterating LevelDB
 * (~3 µs per key).
 *
 * Exactness: a list is built by scanning the field index (an iterator reads one
 * LevelDB snapshot) while the posting changes of every batch written meanwhile
 * are buffered, then replayed in order; after that it follows every batch the
 * vector index set applies. Changes are the index's own puts and deletes, so
 * replaying ones the scan already saw leaves the same sets (the last operation
 * on an (id, value) pair decides, as in LevelDB). A schema change drops the
 * schema's lists; they are rebuilt on the next lookup. Until a list is ready,
 * or when it would pass POSTING_MAX_ENTRIES, lookups return null and callers
 * read the LevelDB index.
 */
export class PostingLists {
  readonly #store: ProjectionStore;
  readonly #max: number;
  readonly #ready = new Map<string, FieldPostings>();
  readonly #building = new Map<string, Build>();
  /** Lists that would pass the bound: not retried until their schema changes. */
  readonly #refused = new Set<string>();
  /** Sum of the ready lists' weights (see POSTING_MAX_ENTRIES). */
  #weight = 0;
  #closed = false;
  /** buildAll listing the schemas (idle waits for it too). */
  #listing: Promise<void> | null = null;
  /** Never goes back, also across a schema's lists being dropped and rebuilt: a key is never reused for another set. */
  readonly #clock: Clock = { now: 0 };

  constructor(store: ProjectionStore, maxEntries = POSTING_MAX_ENTRIES) {
    this.#store = store;
    this.#max = maxEntries;
  }

  /** Starts building (in the background) the lists of every indexed field of every schema with embeddings. */
  buildAll(): Promise<void> {
    const listing = (async () => {
      for (const rec of await this.#store.listSchemas()) {
        const spec = this.#store.schemaSpec(rec.name);
        if (spec === undefined || spec.embeddingFields.length === 0) continue;
        for (const field of spec.indexedFields) this.ensure(rec.name, field);
      }
    })();
    this.#listing = listing.catch(() => undefined);
    return listing;
  }

  /** Starts building the list of (schema, field) unless it is ready, being built or refused. */
  ensure(schema: string, field: string): void {
    const k = listKey(schema, field);
    if (this.#closed || this.#ready.has(k) || this.#building.has(k) || this.#refused.has(k)) return;
    this.#build(schema, field, k);
  }

  /**
   * The id sets of `values` in the list of (schema, field) — empty sets for
   * values no live entity holds — or null when the list is not ready (a build is
   * started). The sets are live: use them before the next change is applied.
   */
  lookup(schema: string, field: string, values: readonly IndexValue[]): ReadonlySet<string>[] | null {
    return this.lookupKeyed(schema, field, values)?.sets ?? null;
  }

  /**
   * `lookup`, with a name for the exact id set it returns (the sets' union as
   * it is now): the key changes whenever that set does.
   */
  lookupKeyed(schema: string, field: string, values: readonly IndexValue[]): { sets: ReadonlySet<string>[]; key: string } | null {
    const k = listKey(schema, field);
    const list = this.#ready.get(k);
    if (list === undefined) {
      this.ensure(schema, field);
      return null;
    }
    let key = k;
    const sets = values.map((v) => {
      const vk = valueKey(v);
      key += `\u0000${vk}\u0000${list.versions.get(vk) ?? 0}`;
      return list.byValue.get(vk) ?? NONE;
    });
    return { sets, key };
  }

  /** Follows one change of a written batch (in batch order). */
  apply(c: PostingChange | SchemaMark): void {
    if (c.kind === "schema") {
      this.#dropSchema(c.schema);
      return;
    }
    const k = listKey(c.schema, c.field);
    const list = this.#ready.get(k);
    if (list !== undefined) {
      const before = list.weight;
      list.apply(c);
      this.#weight += list.weight - before;
      if (this.#weight > this.#max) this.#refuse(k);
      return;
    }
    this.#building.get(k)?.buffer.push(c);
  }

  /** Resolves once no list is being built (tests and benchmarks wait for it). */
  async idle(): Promise<void> {
    await this.#listing;
    while (this.#building.size > 0) await Promise.all([...this.#building.values()].map((b) => b.done));
  }

  /** Ready lists, their (entity, value) entries and weight against the bound, lists being built, lists refused. */
  stats(): { lists: number; entries: number; weight: number; building: number; refused: number } {
    let entries = 0;
    for (const list of this.#ready.values()) entries += list.entries;
    return { lists: this.#ready.size, entries, weight: this.#weight, building: this.#building.size, refused: this.#refused.size };
  }

  /** Stops building (the store is closing); lists built so far stay usable. */
  close(): void {
    this.#closed = true;
    this.#building.clear();
  }

  #build(schema: string, field: string, k: string): void {
    const build: Build = { buffer: [], done: Promise.resolve() };
    this.#building.set(k, build);
    const prefix = this.#store.indexPrefix(schema, field);
    let it: ReturnType<ProjectionStore["idx"]["keys"]>;
    try {
      // Created synchronously with the buffer: the iterator's snapshot is now, and every later batch is buffered.
      it = this.#store.idx.keys({ gte: prefix, lt: prefixEnd(prefix) });
    } catch {
      this.#building.delete(k); // the store is not open: callers keep reading LevelDB
      return;
    }
    const current = () => this.#building.get(k) === build;
    build.done = (async () => {
      const list = new FieldPostings(this.#clock);
      try {
        for (;;) {
          const chunk = await it.nextv(BUILD_CHUNK);
          if (chunk.length === 0 || !current()) break;
          for (const key of chunk) {
            const value = Buffer.from(key.buffer, key.byteOffset + prefix.length, key.byteLength - prefix.length - 16).toString("latin1");
            list.add(value, uuidText(key.subarray(key.length - 16)));
          }
          if (this.#weight + list.weight > this.#max) {
            this.#refuse(k);
            return;
          }
        }
      } finally {
        await it.close();
      }
      if (!current()) return; // its schema changed meanwhile, or the set closed
      for (const c of build.buffer) list.apply(c);
      this.#building.delete(k);
      if (this.#weight + list.weight > this.#max) {
        this.#refused.add(k);
        return;
      }
      this.#ready.set(k, list);
      this.#weight += list.weight;
    })().catch(() => {
      // The store closed under the scan: no list; a later lookup tries again.
      if (current()) this.#building.delete(k);
    });
  }

  #refuse(k: string): void {
    const list = this.#ready.get(k);
    if (list !== undefined) this.#weight -= list.weight;
    this.#ready.delete(k);
    this.#building.delete(k);
    this.#refused.add(k);
  }

  #dropSchema(schema: string): void {
    const prefix = `${schema}\u0000`;
    for (const k of [...this.#ready.keys()]) {
      if (!k.startsWith(prefix)) continue;
      this.#weight -= this.#ready.get(k)!.weight;
      this.#ready.delete(k);
    }
    for (const k of [...this.#building.keys()]) if (k.startsWith(prefix)) this.#building.delete(k);
    for (const k of [...this.#refused]) if (k.startsWith(prefix)) this.#refused.delete(k);
  }
}
