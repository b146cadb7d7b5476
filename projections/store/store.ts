import { randomUUID } from "node:crypto";
import { ClassicLevel } from "classic-level";
import { RemError } from "../../src/errors.js";
import { parseSchema, type SchemaSpec } from "../../schema/definition.js";
import { concat, decString, encString, encValue, encValueSize, prefixEnd, uuidBytes, uuidText, writeUuid, writeValue, type IndexValue } from "./keys.js";
import { pack, unpack, type Checkpoint, type EdgeRecord, type EntityRecord, type SchemaRecord, type VectorRecord } from "./records.js";

import { BloomFilter } from "./bloom.js";
import { entityView } from "../view.js";
import { Family, type Level } from "./family.js";

type Bytes = Uint8Array;
/** A column family of the store (see family.ts). */
export type Sublevel = Family;

/** Entity states kept in memory (~100 bytes each). */
const STATE_CACHE_ENTRIES = 100_000;
/** Decoded entity records kept for repeated reads (~0.5–2 KB each). */
const RECORD_CACHE_ENTRIES = 8192;

/**
 * Up to this many keys, a batched read is a loop of synchronous gets; above it,
 * one getMany. Measured here (100k entities, 2 cores): getMany's round trip to
 * the thread pool costs ~15–20 µs and it reads no faster per key (~3 µs), so
 * for 10 keys it took 37–44 µs against 21–23 µs, for 100 keys ~8% longer. It
 * pays for large reads, which it keeps off the event loop.
 */
const SYNC_READ_MAX = 256;

/** Entries the rebuild filter tracks before giving up (~4.6 MiB of bits). */
const WRITTEN_CAPACITY = 4_000_000;

/** Bump when the layout changes: an older store is dropped and rebuilt from the log. */
export const STORE_FORMAT = 3;
const SEP = new Uint8Array([0]);
const OUT = new Uint8Array([0x6f]);
const IN = new Uint8Array([0x69]);
const EMPTY = new Uint8Array(0);
const utf8 = (s: string): Bytes => Buffer.from(s, "utf8");

/**
 * The "column families" of a tenant's projection store, each a one-byte key prefix
 * in one LevelDB database (family.ts):
 *
 *   entities  schema ‖ 00 ‖ id(16)                     → EntityRecord
 *   ids       id(16)                                   → live flag (00 live, 01 deleted) ‖ schema
 *   keys      natural key (UTF-8)                      → [[id, schema], …]   (global key index)
 *   idx       schema ‖ 00 ‖ encString(field) ‖ encValue ‖ id(16) → ∅ (field indexes)
 *   edges     src(16) ‖ encString(type) ‖ dst(16)       → EdgeRecord (with props)
 *   adj       id(16) ‖ "o" | "i"                       → [[type, other id], …] (adjacency lists)
 *   vectors   schema ‖ 00 ‖ encString(field) ‖ id(16)   → VectorRecord (model, dim, vector, text_hash)
 *   pending   schema ‖ 00 ‖ encString(field) ‖ id(16)   → ∅ (texts waiting for an embedding: the backlog)
 *   vdims     schema ‖ 00 ‖ encString(field)            → {dim, model} of the field's first accepted embedding
 *   vlog      seq(8) ‖ schema ‖ 00 ‖ encString(field) ‖ id(16) → ∅ (which vectors a commit changed: HNSW snapshots replay it)
 *   schemas   name                                     → SchemaRecord
 *   meta      "checkpoint" → Checkpoint, "format" → STORE_FORMAT
 *
 * Hot reads (get by id, key lookup, graph hops) are single synchronous gets
 * (~3 µs here): opening a LevelDB iterator costs ~200 µs, so iterators are kept
 * for scans (queries, rebuilds) only.
 */
export class ProjectionStore {
  readonly dir: string;
  readonly db: Level;
  readonly entities: Sublevel;
  readonly ids: Sublevel;
  readonly keys: Sublevel;
  readonly idx: Sublevel;
  readonly edges: Sublevel;
  readonly adj: Sublevel;
  readonly vectors: Sublevel;
  readonly pending: Sublevel;
  readonly vdims: Sublevel;
  readonly vlog: Sublevel;
  readonly schemas: Sublevel;
  readonly meta: Sublevel;
  #checkpoint: Checkpoint | null = null;
  #storeId = "";
  #specs = new Map<string, SchemaSpec>();
  /** Decoded schema records (null: known absent), so hot paths neither re-read nor re-parse them. */
  #schemaRecords = new Map<string, SchemaRecord | null>();
  #prefixes = new Map<string, Bytes>();
  /** Full (family-prefixed) index prefixes by schema, then field: built once, used for every index key. */
  #idxPrefixes = new Map<string, Map<string, Buffer>>();
  /**
   * Keys of the read-modify-write families (ids, keys, adj) written since the
   * store was empty; null once the store has history it does not track. Lets a
   * rebuild skip reads that must miss.
   */
  #written: BloomFilter | null = null;
  /**
   * Recently read entity states (schema, live), the hop-by-hop read of graph
   * traversals. Entries are dropped when a batch writes their entity
   * (forgetStates), so the cache never outlives the store's own view.
   */
  readonly #states = new Map<string, { schema: string; live: boolean } | null>();
  /**
   * Recently read entity records (GETs, search hits), decoded. Same rule as
   * #states: a batch that writes an entity drops it (forgetStates), during and
   * after the write, so a cached record is never older than the store. Records
   * are immutable: callers build new ones, never change these.
   */
  readonly #records = new Map<string, EntityRecord>();
  /**
   * The JSON of recently read live entities as GET /entities/:id answers it
   * (entityView with outgoing edges), as UTF-8 bytes: a cached GET then skips
   * the adjacency read, building the view and serialising it. Dropped with the
   * record (forgetStates) and when the entity's outgoing edges change
   * (forgetViews), after the batch is written, as #records.
   */
  readonly #views = new Map<string, Buffer>();
  /**
   * Bumped after every written batch (forgetStates): a batched read that saw it
   * change while in flight may have read records older than the store, so it
   * does not remember them.
   */
  #writes = 0;

  private constructor(dir: string, db: Level) {
    this.dir = dir;
    this.db = db;
    let prefix = 0x01;
    const sub = (name: string): Family => new Family(db, name, prefix++);
    // Order matters: it assigns the prefix bytes (part of STORE_FORMAT).
    this.meta = sub("meta");
    this.schemas = sub("schemas");
    this.entities = sub("entities");
    this.ids = sub("ids");
    this.keys = sub("keys");
    this.idx = sub("idx");
    this.edges = sub("edges");
    this.adj = sub("adj");
    this.vectors = sub("vectors");
    this.pending = sub("pending");
    this.vdims = sub("vdims");
    this.vlog = sub("vlog");
  }

  /**
   * Opens (creating) the store. Another process holding it gives
   * REM_ERR_STORE_LOCKED, after waiting up to `lockWaitMs` for it to let go.
   */
  static async open(dir: string, options: { lockWaitMs?: number } = {}): Promise<ProjectionStore> {
    const deadline = Date.now() + (options.lockWaitMs ?? 0);
    for (;;) {
      try {
        return await ProjectionStore.#open(dir);
      } catch (err) {
        if (!(err instanceof RemError) || err.code !== "REM_ERR_STORE_LOCKED" || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  static async #open(dir: string): Promise<ProjectionStore> {
    // "buffer" encodings: "view" transcodes every key and value (measured 3x slower on batches).
    // A larger block cache than LevelDB's 8 MiB keeps point reads (get, lookup, graph hops) in memory;
    // it is a cap, filled only as blocks are read.
    const db = new ClassicLevel<Bytes, Bytes>(dir, {
      keyEncoding: "buffer",
      valueEncoding: "buffer",
      cacheSize: Number(process.env.REM_STORE_CACHE_MB ?? 64) * 1024 * 1024,
      writeBufferSize: 16 * 1024 * 1024,
    });
    const store = new ProjectionStore(dir, db);
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === "LEVEL_LOCKED" || /lock/i.test(cause?.message ?? "")) {
        throw new RemError("REM_ERR_STORE_LOCKED", `the projection store ${dir} is open in another REM process (a running \`rem serve\`?); stop it or use its HTTP API`, { path: dir }, { cause: err });
      }
      throw new RemError("REM_ERR_INTERNAL", `cannot open the projection store ${dir}: ${(err as Error).message}`, { path: dir }, { cause: err });
    }
    const format = store.meta.getSync(utf8("format"));
    if (format !== undefined && unpack<number>(format) !== STORE_FORMAT) {
      await db.clear();
    }
    if (format === undefined || unpack<number>(format) !== STORE_FORMAT) await store.meta.put(utf8("format"), pack(STORE_FORMAT));
    const storeId = store.meta.getSync(utf8("store_id"));
    if (storeId === undefined) await store.#newStoreId();
    else store.#storeId = unpack<string>(storeId);
    const cp = store.meta.getSync(utf8("checkpoint"));
    store.#checkpoint = cp === undefined ? null : unpack<Checkpoint>(cp);
    // Every batch writes a checkpoint, so without one nothing was ever written.
    if (store.#checkpoint === null) store.#written = new BloomFilter(WRITTEN_CAPACITY);
    return store;
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * A random id for this store's contents, renewed when it is emptied: snapshots
   * derived from the store (HNSW indexes) record it and are ignored when it differs.
   */
  get storeId(): string {
    return this.#storeId;
  }

  async #newStoreId(): Promise<void> {
    this.#storeId = randomUUID();
    await this.meta.put(utf8("store_id"), pack(this.#storeId));
  }

  /** Every column family, for dumps and tests. */
  families(): Record<string, Family> {
    return {
      meta: this.meta,
      schemas: this.schemas,
      entities: this.entities,
      ids: this.ids,
      keys: this.keys,
      idx: this.idx,
      edges: this.edges,
      adj: this.adj,
      vectors: this.vectors,
      pending: this.pending,
      vdims: this.vdims,
      vlog: this.vlog,
    };
  }

  /** Drops everything (the log rebuilds it). */
  async clear(): Promise<void> {
    await this.db.clear();
    await this.meta.put(utf8("format"), pack(STORE_FORMAT));
    await this.#newStoreId();
    this.#checkpoint = null;
    this.#writes++;
    this.#states.clear();
    this.#records.clear();
    this.#views.clear();
    this.invalidateSchemas();
    this.#written = new BloomFilter(WRITTEN_CAPACITY);
  }

  /** Records that `key` of `family` is being written (see #written). */
  noteWrite(family: Family, key: Bytes): void {
    const w = this.#written;
    if (w === null) return;
    w.add(family.prefix, key);
    if (w.count > w.capacity) this.#written = null; // too full to help: read everything
  }

  /**
   * False when `key` of `family` was certainly never written nor staged (the
   * store started empty and its filter of written keys is still in use); true
   * when it may have been.
   */
  mayHaveWritten(family: Family, key: Bytes): boolean {
    const w = this.#written;
    return w === null || w.mayContain(family.prefix, key);
  }

  /** A synchronous get that skips the read when the key was certainly never written. */
  getTracked(family: Family, key: Bytes): Bytes | undefined {
    const w = this.#written;
    if (w !== null && !w.mayContain(family.prefix, key)) return undefined;
    return family.getSync(key);
  }

  // ---- checkpoint ---------------------------------------------------------------

  /** The last commit applied: sequence, chain hash and timestamp (null before the first). */
  get checkpoint(): Checkpoint | null {
    return this.#checkpoint;
  }

  checkpointKey(): Bytes {
    return utf8("checkpoint");
  }

  /** Called by the runner after a batch holding the checkpoint was written. */
  setCheckpoint(cp: Checkpoint): void {
    this.#checkpoint = cp;
  }

  // ---- keys ---------------------------------------------------------------------

  entityKey(schema: string, id: string): Bytes {
    return concat(this.schemaPrefix(schema), uuidBytes(id));
  }

  /** schema ‖ 00, cached: key building is on the rebuild hot path. */
  schemaPrefix(schema: string): Bytes {
    let p = this.#prefixes.get(schema);
    if (p === undefined) this.#prefixes.set(schema, (p = concat(utf8(schema), SEP)));
    return p;
  }

  keyIndexKey(key: string): Bytes {
    return utf8(key);
  }

  adjKey(id: string, direction: "out" | "in"): Bytes {
    return concat(uuidBytes(id), direction === "out" ? OUT : IN);
  }

  indexPrefix(schema: string, field: string): Bytes {
    const k = `${schema}\u0000${field}`;
    let p = this.#prefixes.get(k);
    if (p === undefined) this.#prefixes.set(k, (p = concat(utf8(schema), SEP, encString(field))));
    return p;
  }

  indexKey(schema: string, field: string, value: IndexValue, id: string): Bytes {
    return concat(this.indexPrefix(schema, field), encValue(value), uuidBytes(id));
  }

  /**
   * The absolute key (family prefix included) of an index entry, built in one
   * allocation: the rebuild path writes several per entity.
   */
  indexKeyFull(schema: string, field: string, value: IndexValue, idBytes: Uint8Array): Buffer {
    let bySchema = this.#idxPrefixes.get(schema);
    if (bySchema === undefined) this.#idxPrefixes.set(schema, (bySchema = new Map()));
    let prefix = bySchema.get(field);
    if (prefix === undefined) bySchema.set(field, (prefix = this.idx.full(this.indexPrefix(schema, field))));
    const out = Buffer.allocUnsafe(prefix.length + encValueSize(value) + 16);
    prefix.copy(out, 0);
    const o = writeValue(out, prefix.length, value);
    out.set(idBytes, o);
    return out;
  }

  /** The absolute key of an entity (family prefix included), from its id's bytes or text, in one allocation. */
  entityKeyFull(schema: string, id: Uint8Array | string): Buffer {
    const prefix = this.schemaPrefix(schema);
    const out = Buffer.allocUnsafe(1 + prefix.length + 16);
    out[0] = this.entities.prefix[0]!;
    out.set(prefix, 1);
    if (typeof id === "string") writeUuid(out, 1 + prefix.length, id);
    else out.set(id, 1 + prefix.length);
    return out;
  }

  /** schema ‖ 00 ‖ encString(field) ‖ id: the key of an entity's vector, and of its pending mark. */
  vectorKey(schema: string, field: string, id: string): Bytes {
    return concat(this.indexPrefix(schema, field), uuidBytes(id));
  }

  /** A change-log key: which vector a commit changed. */
  vlogKey(seq: number, schema: string, field: string, id: string): Bytes {
    const s = Buffer.allocUnsafe(8);
    s.writeBigUInt64BE(BigInt(seq));
    return concat(s, this.indexPrefix(schema, field), uuidBytes(id));
  }

  getVector(schema: string, field: string, id: string): VectorRecord | undefined {
    const v = this.vectors.getSync(this.vectorKey(schema, field, id));
    return v === undefined ? undefined : unpack<VectorRecord>(v);
  }

  /** The dimension and model a field's vectors have, once it has one. */
  vectorDims(schema: string, field: string): { dim: number; model: string } | undefined {
    const v = this.vdims.getSync(this.indexPrefix(schema, field));
    return v === undefined ? undefined : unpack<{ dim: number; model: string }>(v);
  }

  /** Every stored vector of a schema's field, in id order. */
  async *scanVectors(schema: string, field: string): AsyncGenerator<{ id: string; rec: VectorRecord }> {
    const prefix = this.indexPrefix(schema, field);
    const it = this.vectors.iterator({ gte: prefix, lt: prefixEnd(prefix) });
    try {
      for (;;) {
        const chunk = await it.nextv(256);
        if (chunk.length === 0) return;
        for (const [k, v] of chunk) yield { id: uuidText(k.subarray(prefix.length)), rec: unpack<VectorRecord>(v) };
      }
    } finally {
      await it.close();
    }
  }

  /** The embedding backlog: (schema, field, id) of texts without a current embedding, up to `limit`. */
  async pendingEmbeddings(limit: number, filter?: { schema?: string }): Promise<{ schema: string; field: string; id: string }[]> {
    const out: { schema: string; field: string; id: string }[] = [];
    const range = filter?.schema === undefined ? {} : { gte: this.schemaPrefix(filter.schema), lt: prefixEnd(this.schemaPrefix(filter.schema)) };
    const it = this.pending.keys(range);
    try {
      while (out.length < limit) {
        const chunk = await it.nextv(Math.min(256, limit - out.length));
        if (chunk.length === 0) break;
        for (const k of chunk) {
          const sep = k.indexOf(0);
          const schema = Buffer.from(k.buffer, k.byteOffset, sep).toString("utf8");
          const f = decString(k, sep + 1);
          out.push({ schema, field: f.value, id: uuidText(k.subarray(f.next)) });
        }
      }
    } finally {
      await it.close();
    }
    return out;
  }

  /** How many embeddings are pending, per "schema.field" (a full count of the backlog: status only). */
  async pendingCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for await (const k of this.pending.keys()) {
      const sep = k.indexOf(0);
      const name = `${Buffer.from(k.buffer, k.byteOffset, sep).toString("utf8")}.${decString(k, sep + 1).value}`;
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }

  edgeKey(from: string, type: string, to: string): Bytes {
    return concat(uuidBytes(from), encString(type), uuidBytes(to));
  }

  // ---- reads --------------------------------------------------------------------

  /** An entity by id, tombstoned ones included (callers decide), or undefined. Synchronous: ~10 µs. */
  getEntity(id: string, remember = false, idBytes?: Uint8Array): EntityRecord | undefined {
    const cached = this.#records.get(id);
    if (cached !== undefined) return cached;
    const idb = idBytes ?? uuidBytes(id); // after the cache: a hit needs no bytes
    const entry = this.getTracked(this.ids, idb);
    if (entry === undefined) return undefined;
    const value = this.entities.getSync(concat(entry.subarray(1), SEP, idb));
    if (value === undefined) return undefined;
    const rec = unpack<EntityRecord>(value);
    return remember ? this.#remember(rec) : rec;
  }

  /**
   * An entity known to belong to `schema` (tombstones included), or undefined:
   * one get instead of two, for callers that know the schema (queries).
   */
  getEntityIn(schema: string, id: string, remember = false): EntityRecord | undefined {
    const cached = this.#records.get(id);
    if (cached !== undefined && cached.schema === schema) return cached;
    const value = this.entities.getSync(concat(this.schemaPrefix(schema), uuidBytes(id)));
    if (value === undefined) return undefined;
    const rec = unpack<EntityRecord>(value);
    return remember ? this.#remember(rec) : rec;
  }

  /**
   * Entities known to belong to `schema`, by id: one result per id, in order,
   * undefined where there is none (tombstones included, as getEntityIn). Those
   * not in the record cache are read in one batch (SYNC_READ_MAX) and decoded
   * only when found. With `remember`, what was read joins the record cache, as
   * point reads do.
   */
  async getEntitiesIn(schema: string, ids: readonly string[], remember = false): Promise<(EntityRecord | undefined)[]> {
    const out = new Array<EntityRecord | undefined>(ids.length);
    const slots: number[] = [];
    const keys: Bytes[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const cached = this.#records.get(id);
      if (cached !== undefined && cached.schema === schema) {
        out[i] = cached;
      } else {
        slots.push(i);
        keys.push(this.entityKeyFull(schema, id));
      }
    }
    if (keys.length === 0) return out;
    const writes = this.#writes;
    if (keys.length <= SYNC_READ_MAX) {
      // Synchronous gets: nothing can be written in between, so what they read may always be remembered.
      for (let j = 0; j < keys.length; j++) {
        const v = this.db.getSync(keys[j]!);
        if (v === undefined) continue;
        const rec = unpack<EntityRecord>(v);
        out[slots[j]!] = remember ? this.#remember(rec) : rec;
      }
      return out;
    }
    const values = await this.db.getMany(keys);
    // A batch written while the read was in flight may have changed what it returned: use, don't cache.
    const keep = remember && writes === this.#writes;
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (v === undefined) continue;
      const rec = unpack<EntityRecord>(v);
      out[slots[j]!] = keep ? this.#remember(rec) : rec;
    }
    return out;
  }

  /**
   * Keeps a record read by a point read (`remember`: GETs, search hits). Scans and the
   * apply path do not remember what they read: they would only evict the hot records.
   */
  #remember(rec: EntityRecord): EntityRecord {
    const records = this.#records;
    // Dropping everything when full is cheaper than evicting one by one (a Map's
    // first key after many deletions is slow to find) and the hot set refills at once.
    if (records.size >= RECORD_CACHE_ENTRIES) records.clear();
    records.set(rec.id, rec);
    return rec;
  }

  /** Whether an entity exists and is live, and its schema, without reading it (one ~3 µs get, or a cache hit). */
  entityState(id: string): { schema: string; live: boolean } | undefined {
    const cached = this.#states.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const entry = this.ids.getSync(uuidBytes(id));
    const state = entry === undefined ? null : { schema: Buffer.from(entry.buffer, entry.byteOffset + 1, entry.byteLength - 1).toString("utf8"), live: entry[0] === 0 };
    if (this.#states.size >= STATE_CACHE_ENTRIES) this.#states.delete(this.#states.keys().next().value!); // oldest first
    this.#states.set(id, state);
    return state ?? undefined;
  }

  /** Drops cached states of entities a batch just wrote. */
  forgetStates(ids: Iterable<string>): void {
    this.#writes++;
    if (this.#states.size === 0 && this.#records.size === 0 && this.#views.size === 0) return;
    for (const id of ids) {
      this.#states.delete(id);
      this.#records.delete(id);
      this.#views.delete(id);
    }
  }

  /** Drops cached views of entities whose outgoing edges a batch just changed. */
  forgetViews(ids: Iterable<string>): void {
    if (this.#views.size === 0) return;
    for (const id of ids) this.#views.delete(id);
  }

  /**
   * What GET /entities/:id answers for an entity of `schema` (its view with
   * outgoing edges) as JSON bytes, or undefined when there is no such entity.
   * Served from #views when it was read before and not written since.
   */
  entityViewJson(schema: string, id: string): Buffer | undefined {
    const cached = this.#views.get(id);
    if (cached !== undefined) return cached;
    const rec = this.getEntityIn(schema, id, true);
    if (rec === undefined) return undefined;
    const json = Buffer.from(JSON.stringify(entityView(rec, this.outEdges(id))), "utf8");
    if (rec.deleted_at === null) {
      if (this.#views.size >= RECORD_CACHE_ENTRIES) this.#views.clear(); // as #remember: cheaper than evicting one by one
      this.#views.set(id, json);
    }
    return json;
  }

  getSchemaRecord(name: string): SchemaRecord | undefined {
    const cached = this.#schemaRecords.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const v = this.schemas.getSync(utf8(name));
    const rec = v === undefined ? null : unpack<SchemaRecord>(v);
    this.#schemaRecords.set(name, rec);
    return rec ?? undefined;
  }

  /** The parsed schema (cached until it changes), or undefined. */
  schemaSpec(name: string): SchemaSpec | undefined {
    const cached = this.#specs.get(name);
    if (cached !== undefined) return cached;
    const rec = this.getSchemaRecord(name);
    if (rec === undefined) return undefined;
    const spec = parseSchema(rec.definition, rec.name);
    this.#specs.set(name, spec);
    return spec;
  }

  /** Forget cached parsed schemas (after a batch that changed schemas, or a failed one). */
  invalidateSchemas(name?: string): void {
    if (name === undefined) {
      this.#specs.clear();
      this.#schemaRecords.clear();
    } else {
      this.#specs.delete(name);
      this.#schemaRecords.delete(name);
    }
  }

  async listSchemas(): Promise<SchemaRecord[]> {
    const out: SchemaRecord[] = [];
    for await (const v of this.schemas.values()) out.push(unpack<SchemaRecord>(v));
    return out;
  }

  /** Entities whose natural key (uri, key field, key or name) equals `key`, across schemas (live ones only). */
  lookupKey(key: string): { id: string; schema: string }[] {
    const v = this.keys.getSync(this.keyIndexKey(key));
    return v === undefined ? [] : unpack<[string, string][]>(v).map(([id, schema]) => ({ id, schema }));
  }

  /** A node's adjacency list: [[edge type, other id], …], outgoing or incoming. */
  adjacency(id: string, direction: "out" | "in"): [string, string][] {
    const v = this.adj.getSync(this.adjKey(id, direction));
    return v === undefined ? [] : unpack<[string, string][]>(v);
  }

  /** Every stored entity of a schema in id order (tombstones included), starting after `afterId`. */
  async *scanSchema(schema: string, afterId?: string): AsyncGenerator<EntityRecord> {
    const prefix = this.schemaPrefix(schema);
    const range = afterId === undefined ? { gte: prefix, lt: prefixEnd(prefix) } : { gt: this.entityKey(schema, afterId), lt: prefixEnd(prefix) };
    const it = this.entities.values(range);
    try {
      for (;;) {
        const chunk = await it.nextv(256);
        if (chunk.length === 0) return;
        for (const v of chunk) yield unpack<EntityRecord>(v);
      }
    } finally {
      await it.close();
    }
  }

  /**
   * Ids from a field index between two encoded bounds (inclusive/exclusive as given),
   * in index order or reversed. Bounds are full index keys without the id, or the
   * index prefix itself for an open end.
   */
  async *indexIds(schema: string, field: string, range: IndexRange, reverse = false): AsyncGenerator<{ id: string; valueKey: Bytes }> {
    for await (const chunk of this.indexIdChunks(schema, field, range, reverse)) yield* chunk;
  }

  /** indexIds in the chunks LevelDB hands them over: one async step per chunk, not per id (readers that batch). */
  async *indexIdChunks(schema: string, field: string, range: IndexRange, reverse = false): AsyncGenerator<{ id: string; valueKey: Bytes }[]> {
    const prefix = this.indexPrefix(schema, field);
    const lower = range.lower === null ? { gte: prefix } : range.lower.inclusive ? { gte: concat(prefix, range.lower.key) } : { gte: prefixEnd(concat(prefix, range.lower.key)) };
    const upper = range.upper === null ? { lt: prefixEnd(prefix) } : range.upper.inclusive ? { lt: prefixEnd(concat(prefix, range.upper.key)) } : { lt: concat(prefix, range.upper.key) };
    const it = this.idx.keys({ ...lower, ...upper, reverse });
    try {
      for (;;) {
        const chunk = await it.nextv(256);
        if (chunk.length === 0) return;
        yield chunk.map((k) => ({ id: uuidText(k.subarray(k.length - 16)), valueKey: k.subarray(prefix.length, k.length - 16) }));
      }
    } finally {
      await it.close();
    }
  }

  /** Outgoing edges of `id` with their properties (optionally of one type). */
  outEdges(id: string, type?: string): EdgeRecord[] {
    const out: EdgeRecord[] = [];
    for (const [t, dst] of this.adjacency(id, "out")) {
      if (type !== undefined && t !== type) continue;
      const v = this.edges.getSync(this.edgeKey(id, t, dst));
      if (v !== undefined) out.push(unpack<EdgeRecord>(v));
    }
    return out;
  }

  static readonly EMPTY = EMPTY;
}

/** A range over one field index: bounds are encoded values (encValue), or null for open ends. */
export interface IndexRange {
  readonly lower: { readonly key: Bytes; readonly inclusive: boolean } | null;
  readonly upper: { readonly key: Bytes; readonly inclusive: boolean } | null;
}
