import { prefixEnd } from "../store/keys.js";
import { unpack, vectorOf, type EntityRecord, type VectorRecord } from "../store/records.js";
import type { ProjectionStore } from "../store/store.js";

/** Entries per LevelDB read: big reads amortise the per-call cost of the native iterator. */
const BATCH = 1000;

/**
 * Every entity record of a schema (tombstones included), in id order, in
 * batches. The next batch is read while the caller works on this one, and the
 * iterator reads a LevelDB snapshot taken when it opens: the rows are the
 * store's state at one instant, at or after the checkpoint the caller read.
 */
export async function* scanSchemaBatches(store: ProjectionStore, schema: string): AsyncGenerator<EntityRecord[]> {
  for await (const values of scanOrdered(store, schema)) {
    const out = new Array<EntityRecord>(values.length);
    for (let i = 0; i < values.length; i++) out[i] = unpack<EntityRecord>(values[i]!);
    yield out;
  }
}

/** Stored records of a schema in id order (embedding exports merge them with vectors, which are in id order too). */
async function* scanOrdered(store: ProjectionStore, schema: string): AsyncGenerator<Uint8Array[]> {
  const prefix = store.schemaPrefix(schema);
  const it = store.db.values({
    gte: store.entities.full(prefix),
    lt: store.entities.full(prefixEnd(prefix)),
    highWaterMarkBytes: 4 * 1024 * 1024,
    fillCache: false, // a full scan would evict the hot entries point reads need
  });
  try {
    let next = it.nextv(BATCH);
    for (;;) {
      const values = await next;
      if (values.length === 0) return;
      next = it.nextv(BATCH);
      yield values;
    }
  } finally {
    await it.close();
  }
}

/** Key ranges read at once by a full scan: each keeps a read in flight, so the export rarely waits for LevelDB. */
const LANES = 2;

/**
 * The same records, still encoded (MessagePack): the full export reads them
 * without decoding (rows.ts). Not in id order: the id range is split in LANES
 * parts read concurrently (file row order carries no meaning: views resolve
 * rows by id). All parts read one explicit snapshot, so the rows are still the
 * store's state at one instant.
 */
export async function* scanSchemaEncoded(store: ProjectionStore, schema: string): AsyncGenerator<Uint8Array[]> {
  const prefix = store.entities.full(store.schemaPrefix(schema));
  const bounds: Uint8Array[] = [prefix];
  // Entity keys are prefix ‖ id (16 random bytes): split on the id's first byte.
  for (let k = 1; k < LANES; k++) bounds.push(Buffer.concat([prefix, Buffer.from([Math.floor((256 * k) / LANES)])]));
  bounds.push(store.entities.full(prefixEnd(store.schemaPrefix(schema))));
  const snapshot = store.db.snapshot();
  const lanes = bounds.slice(0, -1).map((gte, k) => {
    const it = store.db.values({
      gte,
      lt: bounds[k + 1]!,
      snapshot,
      highWaterMarkBytes: 4 * 1024 * 1024,
      fillCache: false, // a full scan would evict the hot entries point reads need
    });
    return { it, next: it.nextv(BATCH) as Promise<Uint8Array[]> | null };
  });
  try {
    for (let live = lanes.length; live > 0; ) {
      for (const lane of lanes) {
        if (lane.next === null) continue;
        const values = await lane.next;
        if (values.length === 0) {
          lane.next = null;
          live--;
          continue;
        }
        lane.next = lane.it.nextv(BATCH);
        yield values;
      }
    }
  } finally {
    for (const lane of lanes) {
      await lane.next?.catch(() => undefined);
      await lane.it.close();
    }
    await snapshot.close();
  }
}

/**
 * The current vectors of one embedded field for ids given in ascending order:
 * a merge with the store's vector family (also in id order), so a full export
 * reads each vector once instead of one get per entity.
 */
export class VectorMerge {
  readonly #it: AsyncGenerator<{ id: string; rec: VectorRecord }>;
  #head: { id: string; vector: Float32Array } | null = null;
  #done = false;

  constructor(store: ProjectionStore, schema: string, field: string) {
    this.#it = store.scanVectors(schema, field);
  }

  /** The vector of `id` (ids must be asked for in ascending order), or null. */
  async get(id: string): Promise<Float32Array | null> {
    while (!this.#done && (this.#head === null || this.#head.id < id)) {
      const n = await this.#it.next();
      if (n.done === true) {
        this.#done = true;
        this.#head = null;
      } else this.#head = { id: n.value.id, vector: vectorOf(n.value.rec) };
    }
    return this.#head !== null && this.#head.id === id ? this.#head.vector : null;
  }

  async close(): Promise<void> {
    await this.#it.return(undefined);
  }
}
