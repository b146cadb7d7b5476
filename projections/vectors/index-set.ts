import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileDurable } from "../../events/keys/files.js";
import { decString, uuidText } from "../store/keys.js";
import { vectorOf, type VectorChange } from "../store/records.js";
import type { ProjectionStore } from "../store/store.js";
import { PostingLists } from "./postings.js";
import { hnswParams, VectorIndex, type HnswParams } from "./vector-index.js";

interface SnapshotMeta {
  readonly v: 1;
  /** The store the snapshot was taken from (a rebuilt store has another id). */
  readonly storeId: string;
  /** The store checkpoint the indexes reflect. */
  readonly seq: number;
  readonly createdAt: string;
  readonly indexes: { schema: string; field: string; dim: number; params: HnswParams; dir: string; vectors: number }[];
}

export interface VectorIndexStats {
  readonly schema: string;
  readonly field: string;
  readonly dim: number;
  readonly vectors: number;
  /** Vectors searchable (scored exactly) but not yet in the HNSW graph. */
  readonly pendingGraphInserts: number;
  readonly snapshotSeq: number | null;
  readonly snapshotAgeS: number | null;
}

export interface OpenStats {
  /** "snapshot" (loaded, then the change-log tail replayed) or "rebuild" (built from every stored vector). */
  readonly source: "snapshot" | "rebuild";
  readonly seconds: number;
  /** Vector changes replayed after the snapshot. */
  readonly tail: number;
}

const key = (schema: string, field: string) => `${schema}\u0000${field}`;

/**
 * A tenant's HNSW indexes, one per (schema, embedded field): derived from the
 * projection store's vectors, kept in memory, and snapshotted to
 * `projections/vectors/` together with the store checkpoint they reflect.
 * Opening loads the latest snapshot and replays only the vectors that changed
 * after it (the store's `vlog` change log); without a usable snapshot it builds
 * from every stored vector. Vectors are never recomputed: they come from the log.
 */
/**
 * Deferred graph inserts allowed per index before a writer drains them itself.
 * Searches rank the backlog with the int8 kernel (~1.5 ms at this size, 384
 * dimensions), so a bulk load can run ahead of the graph and the graph catches
 * up when writes pause.
 */
const PENDING_MAX = 32_768;
/** Graph inserts per background step while writes are quiet (~0.5–1 ms each): a step blocks the event loop ~10 ms at most. */
const DRAIN_CHUNK = 16;
/** While writes arrive (one within WRITE_QUIET_MS), a smaller step every BUSY_STEP_MS: the drain takes ~10–15% of the thread, not the writers' time. */
const BUSY_CHUNK = 4;
const BUSY_STEP_MS = 25;
const WRITE_QUIET_MS = 50;

export class VectorIndexSet {
  readonly #store: ProjectionStore;
  readonly #dir: string;
  readonly #indexes = new Map<string, VectorIndex>();
  #seq = 0;
  #snapshot: { seq: number; at: number } | null = null;
  #dirty = false;
  #closed = false;
  /** A snapshot being written: the indexes must not change under it (hnswlib writes on a worker thread). */
  #snapshotting: Promise<void> | null = null;
  /** Changes that arrived during a snapshot, applied when it ends. */
  #deferred: { changes: readonly VectorChange[]; seq: number }[] = [];
  openStats: OpenStats = { source: "rebuild", seconds: 0, tail: 0 };
  #draining: NodeJS.Timeout | null = null;
  /** When changes were last applied (performance.now()): the drain yields to writers. */
  #lastApply = 0;
  /** Value → ids of the indexed fields of embedded schemas (filtered search), following the same changes as the indexes. */
  readonly postings: PostingLists;

  private constructor(store: ProjectionStore, dir: string, postingMaxEntries?: number) {
    this.#store = store;
    this.#dir = dir;
    this.postings = new PostingLists(store, postingMaxEntries);
  }

  static async open(store: ProjectionStore, dir: string, options: { postingMaxEntries?: number } = {}): Promise<VectorIndexSet> {
    const set = new VectorIndexSet(store, dir, options.postingMaxEntries);
    const started = performance.now();
    const meta = await set.#readSnapshotMeta();
    const at = store.checkpoint?.seq ?? 0;
    if (meta !== null && meta.storeId === store.storeId && meta.seq <= at) {
      for (const ix of meta.indexes) {
        set.#indexes.set(key(ix.schema, ix.field), await VectorIndex.read(join(dir, ix.dir), ix.schema, ix.field, ix.dim, ix.params));
      }
      set.#seq = meta.seq;
      set.#snapshot = { seq: meta.seq, at: Date.parse(meta.createdAt) };
      const tail = await set.#replayTail(meta.seq);
      set.openStats = { source: "snapshot", seconds: (performance.now() - started) / 1000, tail };
    } else {
      await set.#buildFromStore();
      set.openStats = { source: "rebuild", seconds: (performance.now() - started) / 1000, tail: 0 };
    }
    set.#seq = at;
    // Posting lists are not snapshotted: they are rebuilt from the field indexes, in the background
    // (searches read LevelDB until a list is ready), so opening does not wait for them.
    set.postings.buildAll().catch(() => undefined);
    return set;
  }

  /**
   * What the latest snapshot in `dir` holds, without loading it (for status):
   * its checkpoint, age and per-index vector counts; null when there is none.
   */
  static async describe(dir: string): Promise<{ seq: number; createdAt: string; indexes: { schema: string; field: string; dim: number; vectors: number }[] } | null> {
    try {
      const name = (await readFile(join(dir, "CURRENT"), "utf8")).trim();
      const meta = JSON.parse(await readFile(join(dir, name, "meta.json"), "utf8")) as SnapshotMeta;
      return { seq: meta.seq, createdAt: meta.createdAt, indexes: meta.indexes.map((i) => ({ schema: i.schema, field: i.field, dim: i.dim, vectors: i.vectors })) };
    } catch {
      return null;
    }
  }

  /** The index of a schema field, once it has vectors. */
  index(schema: string, field: string): VectorIndex | undefined {
    return this.#indexes.get(key(schema, field));
  }

  /**
   * Resolves when the indexes reflect every change applied so far: at once,
   * unless a snapshot is being written (changes wait for it). Search awaits it,
   * so a writer still reads its own writes while a snapshot runs.
   */
  async settled(): Promise<void> {
    while (this.#snapshotting !== null) await this.#snapshotting;
  }

  /** Applies the vector changes of a batch the store just wrote (at `seq`); deferred while a snapshot is written. */
  apply(changes: readonly VectorChange[], seq: number): void {
    if (this.#snapshotting !== null) {
      this.#deferred.push({ changes, seq });
      return;
    }
    this.#applyNow(changes, seq);
  }

  /** `defer`: graph inserts wait for the background drain (the write path); opening builds the graph directly. */
  #applyNow(changes: readonly VectorChange[], seq: number, defer = true): void {
    this.#lastApply = performance.now();
    let vectors = false;
    for (const c of changes) {
      if (c.kind !== "vector") {
        this.postings.apply(c);
        continue;
      }
      vectors = true;
      const k = key(c.schema, c.field);
      let ix = this.#indexes.get(k);
      if (c.vector === null) {
        ix?.remove(c.id);
        continue;
      }
      // A field re-embedded by another provider had all its vectors removed first: start afresh.
      if (ix !== undefined && ix.dim !== c.vector.length && ix.size === 0) ix = undefined;
      if (ix === undefined) {
        ix = new VectorIndex(c.schema, c.field, c.vector.length, this.#params(c.schema));
        this.#indexes.set(k, ix);
      }
      // The graph insert is deferred (searched exactly meanwhile) so a write returns without paying it.
      ix.upsert(c.id, c.vector, defer);
    }
    if (vectors) this.#dirty = true; // posting lists are not snapshotted: their changes alone leave the snapshot current
    this.#seq = Math.max(this.#seq, seq);
    // Bounded backlog: past it, the writer pays for the graph inserts (exact scoring of the backlog stays cheap).
    for (const ix of this.#indexes.values()) if (ix.pendingCount > PENDING_MAX) ix.drain(ix.pendingCount - PENDING_MAX);
    this.#scheduleDrain();
  }

  /**
   * Drains deferred graph inserts a few at a time between other work, never
   * during a snapshot write: back to back while writes are quiet, a small step
   * every BUSY_STEP_MS while they arrive.
   */
  #scheduleDrain(): void {
    if (this.#draining !== null) return;
    const busy = (): boolean => performance.now() - this.#lastApply < WRITE_QUIET_MS;
    const tick = (): void => {
      this.#draining = null;
      if (this.#closed) return;
      if (this.#snapshotting === null) {
        const chunk = busy() ? BUSY_CHUNK : DRAIN_CHUNK;
        let left = 0;
        for (const ix of this.#indexes.values()) left += ix.pendingCount === 0 ? 0 : ix.drain(chunk);
        if (left === 0) return;
      }
      this.#draining = setTimeout(tick, busy() ? BUSY_STEP_MS : 0);
      this.#draining.unref();
    };
    this.#draining = setTimeout(tick, busy() ? BUSY_STEP_MS : 0);
    this.#draining.unref();
  }

  /** Vectors waiting for their graph insert, over every index. */
  get pending(): number {
    let n = 0;
    for (const ix of this.#indexes.values()) n += ix.pendingCount;
    return n;
  }

  /** Stops the background drain (the indexes stay usable; a snapshot still drains everything). */
  close(): void {
    this.#closed = true;
    this.postings.close();
    if (this.#draining !== null) clearTimeout(this.#draining);
    this.#draining = null;
  }

  stats(): VectorIndexStats[] {
    const age = this.#snapshot === null ? null : Math.round((Date.now() - this.#snapshot.at) / 1000);
    return [...this.#indexes.values()].map((ix) => ({
      schema: ix.schema,
      field: ix.field,
      dim: ix.dim,
      vectors: ix.size,
      pendingGraphInserts: ix.pendingCount,
      snapshotSeq: this.#snapshot?.seq ?? null,
      snapshotAgeS: age,
    }));
  }

  /** Whether indexes changed since the last snapshot. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Writes every index to a new snapshot directory, switches CURRENT to it
   * (atomically), removes older snapshots and prunes the change log up to the
   * snapshot's checkpoint. A crash at any point leaves the previous snapshot usable.
   */
  async snapshot(): Promise<void> {
    await this.settled();
    if (!this.#dirty && this.#snapshot !== null) return;
    const run = this.#writeSnapshot();
    this.#snapshotting = run.catch(() => undefined);
    try {
      await run;
    } finally {
      this.#snapshotting = null;
      for (const d of this.#deferred.splice(0)) this.#applyNow(d.changes, d.seq);
    }
  }

  async #writeSnapshot(): Promise<void> {
    const seq = this.#seq;
    const name = `snap-${String(seq).padStart(20, "0")}`;
    const tmp = join(this.#dir, `${name}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const indexes: SnapshotMeta["indexes"] = [];
    let n = 0;
    for (const ix of this.#indexes.values()) {
      if (ix.size === 0) continue;
      const dir = `i${n++}`;
      await mkdir(join(tmp, dir));
      await ix.write(join(tmp, dir));
      indexes.push({ schema: ix.schema, field: ix.field, dim: ix.dim, params: ix.params, dir, vectors: ix.size });
    }
    const meta: SnapshotMeta = { v: 1, storeId: this.#store.storeId, seq, createdAt: new Date().toISOString(), indexes };
    await writeFileDurable(join(tmp, "meta.json"), JSON.stringify(meta, null, 2));
    await rm(join(this.#dir, name), { recursive: true, force: true });
    await rename(tmp, join(this.#dir, name));
    await writeFileDurable(join(this.#dir, "CURRENT"), name);
    for (const old of await readdir(this.#dir)) {
      if (old.startsWith("snap-") && old !== name) await rm(join(this.#dir, old), { recursive: true, force: true });
    }
    const below = Buffer.alloc(8);
    below.writeBigUInt64BE(BigInt(seq + 1));
    await this.#store.vlog.clear({ lt: below });
    this.#snapshot = { seq, at: Date.now() };
    this.#dirty = false;
  }

  async #readSnapshotMeta(): Promise<(SnapshotMeta & { base: string }) | null> {
    try {
      const name = (await readFile(join(this.#dir, "CURRENT"), "utf8")).trim();
      const meta = JSON.parse(await readFile(join(this.#dir, name, "meta.json"), "utf8")) as SnapshotMeta;
      if (meta.v !== 1) return null;
      // Index directories are relative to the snapshot directory.
      return { ...meta, indexes: meta.indexes.map((i) => ({ ...i, dir: join(name, i.dir) })), base: name };
    } catch {
      return null; // no snapshot yet, or a damaged one: build from the store instead
    }
  }

  /** Re-reads every vector a commit after `seq` changed (the store holds their current values). */
  async #replayTail(seq: number): Promise<number> {
    const from = Buffer.alloc(8);
    from.writeBigUInt64BE(BigInt(seq + 1));
    const changes: VectorChange[] = [];
    for await (const k of this.#store.vlog.keys({ gte: from })) {
      const rest = k.subarray(8);
      const sep = rest.indexOf(0);
      const schema = Buffer.from(rest.buffer, rest.byteOffset, sep).toString("utf8");
      const f = decString(rest, sep + 1);
      const id = uuidText(rest.subarray(f.next));
      const rec = this.#store.getVector(schema, f.value, id);
      changes.push({ kind: "vector", schema, field: f.value, id, vector: rec === undefined ? null : vectorOf(rec) });
    }
    this.#applyNow(changes, this.#store.checkpoint?.seq ?? seq, false);
    return changes.length;
  }

  async #buildFromStore(): Promise<void> {
    for await (const [k] of this.#store.vdims.iterator()) {
      const sep = k.indexOf(0);
      const schema = Buffer.from(k.buffer, k.byteOffset, sep).toString("utf8");
      const field = decString(k, sep + 1).value;
      let changes: VectorChange[] = [];
      for await (const { id, rec } of this.#store.scanVectors(schema, field)) {
        changes.push({ kind: "vector", schema, field, id, vector: vectorOf(rec) });
        if (changes.length >= 1000) {
          this.#applyNow(changes, this.#store.checkpoint?.seq ?? 0, false);
          changes = [];
        }
      }
      this.#applyNow(changes, this.#store.checkpoint?.seq ?? 0, false);
    }
    this.#dirty = this.#indexes.size > 0;
  }

  #params(schema: string): HnswParams {
    return hnswParams(this.#store.schemaSpec(schema)?.hnsw ?? {});
  }
}
