import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import hnswlib from "hnswlib-node";
import { RemError } from "../../src/errors.js";
import { envCount } from "../env.js";
import { uuidText } from "../store/keys.js";
import { FilterBlock, FilterBlockCache } from "./filter-blocks.js";
import { PendingQueue } from "./pending-queue.js";
import { quantizeQuery } from "./quantize.js";
import { rankInt8 } from "./rank-int8.js";

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

/**
 * HNSW parameters. hnswlib's default search ef (10) gives poor recall; REM
 * searches with at least 64. Per schema via `json_schema_extra.hnsw`.
 */
export interface HnswParams {
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
}

/**
 * ef_search 128: at 1M clustered vectors (bench/vector, full) ef 64 found 0.91 of the true top 10,
 * ef 128 0.98, for ~25% more search time; at 100k both find all. (hnswlib's own default, 10, is far worse.)
 */
export const DEFAULT_HNSW: HnswParams = { m: 16, efConstruction: 200, efSearch: 128 };

/** A schema's `hnsw` extension with its unset members taken from DEFAULT_HNSW. */
export function hnswParams(h: { readonly m?: number; readonly efConstruction?: number; readonly efSearch?: number }): HnswParams {
  return { m: h.m ?? DEFAULT_HNSW.m, efConstruction: h.efConstruction ?? DEFAULT_HNSW.efConstruction, efSearch: h.efSearch ?? DEFAULT_HNSW.efSearch };
}

export interface Hit {
  readonly id: string;
  /** cosine similarity, 1 = same direction */
  readonly score: number;
}

const INITIAL_CAPACITY = 1024;

/** Filter sets smaller than this are scored row by row (a block would not pay for itself). */
const BLOCK_MIN_ROWS = 1024;
/** Nor are sets larger than this given a block (the fallback scan of a huge filter). */
const BLOCK_MAX_ROWS = 262_144;
/** Above this k the exact pass rescores too many rows for the int8 pre-pass to pay. */
const BLOCK_MAX_K = 256;
/** From this many deferred vectors a search ranks them with the int8 kernel rather than in JavaScript. */
const PENDING_KERNEL_MIN = 256;
/** Bytes of filter blocks kept per index (`REM_FILTER_BLOCK_BYTES`; 0 turns blocks off). */
export const FILTER_BLOCK_BYTES = envCount(process.env.REM_FILTER_BLOCK_BYTES) ?? 512 * 1024 * 1024;

/** What an exact search did, for plans and tests. */
export interface ExactStats {
  /** Whether the int8 block kernel ranked the rows first. */
  kernel: boolean;
  /** Rows scored in float32 (all of them without the kernel; with it, those its bound could not rule out). */
  rescored: number;
}

/**
 * One schema field's vectors: an hnswlib index (cosine) plus what REM needs
 * around it — the entity id ↔ label map, which labels are live, and a copy of
 * the normalised vectors in one contiguous array for exact scoring (filtered
 * search over a small set is exact, recall 1.0). Memory is therefore about twice
 * the raw vector data.
 *
 * Labels are stable per entity id: an update replaces the point, a delete marks
 * it deleted (hnswlib skips it), a re-insert unmarks it.
 *
 * Deferred inserts: adding a point to the graph costs ~1 ms at efConstruction
 * 200 and 100k points, so a write path may defer it (`upsert(…, true)`). The
 * vector is stored and live at once; until `drain` adds it to the graph, search
 * scores it exactly beside the graph walk, so results never miss it. A deferred
 * update marks the label's old graph point deleted until it is re-added.
 */
export class VectorIndex {
  readonly schema: string;
  readonly field: string;
  readonly dim: number;
  readonly params: HnswParams;
  #hnsw: Hnsw;
  #labels: string[] = [];
  #byId = new Map<string, number>();
  #matrix: Float32Array;
  #live: Uint8Array;
  #liveCount = 0;
  #capacity: number;
  /** Per label: 0 not in the graph, 1 in the graph with its current vector, 2 in the graph but marked deleted. */
  #graph: Uint8Array;
  /** Live labels in the graph (state 1): what a graph search can return. */
  #graphLive = 0;
  /** Labels whose current vector waits for the graph, oldest first, with int8 copies for searching them. */
  #pending: PendingQueue;
  /** Generation: the count of upserts and removals so far; #rowGen[label] is the generation of its last one. */
  #gen = 0;
  #rowGen: Float64Array;
  /** The generation at which a label last became live. */
  #liveGen = 0;
  readonly #blocks = new FilterBlockCache(FILTER_BLOCK_BYTES);

  constructor(schema: string, field: string, dim: number, params: HnswParams = DEFAULT_HNSW, capacity = INITIAL_CAPACITY) {
    this.schema = schema;
    this.field = field;
    this.dim = dim;
    this.params = params;
    this.#capacity = capacity;
    this.#hnsw = new HierarchicalNSW("cosine", dim);
    if (capacity > 0) {
      this.#hnsw.initIndex({ maxElements: capacity, m: params.m, efConstruction: params.efConstruction, randomSeed: 100 });
      this.#hnsw.setEf(params.efSearch);
    }
    this.#matrix = new Float32Array(capacity * dim);
    this.#live = new Uint8Array(capacity);
    this.#graph = new Uint8Array(capacity);
    this.#pending = new PendingQueue(dim, capacity);
    this.#rowGen = new Float64Array(capacity);
  }

  /** Vectors stored but not yet in the graph (searched exactly meanwhile). */
  get pendingCount(): number {
    return this.#pending.count;
  }

  /** Live vectors. */
  get size(): number {
    return this.#liveCount;
  }

  /** Labels ever used (live and deleted). */
  get labelCount(): number {
    return this.#labels.length;
  }

  has(id: string): boolean {
    const l = this.#byId.get(id);
    return l !== undefined && this.#live[l] === 1;
  }

  /** Adds or replaces the vector of `id`; with `defer`, its graph insert waits for `drain`. */
  upsert(id: string, vector: Float32Array, defer = false): void {
    if (vector.length !== this.dim) {
      throw new RemError("REM_ERR_EMBEDDING_DIMENSION", `index ${this.schema}.${this.field} holds ${this.dim}-dimensional vectors, got ${vector.length}`, {
        schema: this.schema,
        field: this.field,
      });
    }
    const unit = normalised(vector);
    let label = this.#byId.get(id);
    if (label === undefined) {
      label = this.#labels.length;
      if (label >= this.#capacity) this.#grow();
      this.#labels.push(id);
      this.#byId.set(id, label);
    }
    this.#matrix.set(unit, label * this.dim);
    this.#rowGen[label] = ++this.#gen;
    if (this.#live[label] === 0) {
      this.#live[label] = 1;
      this.#liveCount++;
      this.#liveGen = this.#gen;
    }
    if (defer) {
      if (this.#graph[label] === 1) {
        this.#hnsw.markDelete(label); // its old position must not be found meanwhile
        this.#graph[label] = 2;
        this.#graphLive--;
      }
      this.#pending.push(label, this.#matrix); // (again, if queued: its row changed)
    } else {
      this.#toGraph(label);
    }
  }

  /**
   * Adds up to `max` deferred vectors to the graph (oldest first); returns how
   * many remain. Synchronous: callers bound `max` to bound the pause.
   */
  drain(max = Number.POSITIVE_INFINITY): number {
    let done = 0;
    while (done < max) {
      const label = this.#pending.shift();
      if (label < 0) break;
      if (this.#live[label] === 0) continue;
      this.#toGraph(label);
      done++;
    }
    return this.#pending.count;
  }

  /**
   * Cosine of a stored (normalised) vector with a normalised query, given as
   * float64 (the same values as its float32 source, so the same products and
   * sums): reading doubles spares a conversion per component, ~25% faster.
   */
  #dot(label: number, q: Float64Array): number {
    const m = this.#matrix;
    const dim = this.dim;
    const off = label * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < dim; j += 4) {
      s0 += m[off + j]! * q[j]!;
      s1 += m[off + j + 1]! * q[j + 1]!;
      s2 += m[off + j + 2]! * q[j + 2]!;
      s3 += m[off + j + 3]! * q[j + 3]!;
    }
    for (; j < dim; j++) s0 += m[off + j]! * q[j]!;
    return s0 + s1 + s2 + s3;
  }

  /** Puts a live label's current vector into the graph (and out of the queue). */
  #toGraph(label: number): void {
    this.#pending.drop(label);
    const state = this.#graph[label]!;
    if (state === 2) this.#hnsw.unmarkDelete(label);
    // an existing label: hnswlib updates the point in place
    this.#hnsw.addPoint(toArray(this.#matrix.subarray(label * this.dim, (label + 1) * this.dim)), label);
    if (state !== 1) this.#graphLive++;
    this.#graph[label] = 1;
  }

  remove(id: string): void {
    const label = this.#byId.get(id);
    if (label === undefined || this.#live[label] === 0) return;
    if (this.#graph[label] === 1) {
      this.#hnsw.markDelete(label);
      this.#graph[label] = 2;
      this.#graphLive--;
    }
    this.#live[label] = 0;
    this.#liveCount--;
    this.#rowGen[label] = ++this.#gen;
    this.#pending.drop(label);
  }

  /**
   * Approximate nearest neighbours by HNSW, best first. `allow` (by id) filters
   * during the graph search; `ef` raises the search breadth for this call.
   */
  search(query: Float32Array, k: number, options: { allow?: (id: string) => boolean; ef?: number } = {}): Hit[] {
    if (this.#liveCount === 0 || k <= 0) return [];
    const allow = options.allow;
    const q = normalised(query);
    // A few more than k from the graph, so equal scores at the cut are broken by id, not by graph shape:
    // the same data gives the same answer however the index was built.
    const top = new TopK(k, this.#labels);
    const n = Math.min(k + TIE_SLACK, this.#graphLive);
    if (n > 0) {
      this.#hnsw.setEf(Math.max(options.ef ?? this.params.efSearch, n));
      const filter = allow === undefined ? undefined : (label: number) => allow(this.#labels[label]!);
      const res = this.#hnsw.searchKnn(toArray(q), n, filter);
      for (let i = 0; i < res.neighbors.length; i++) top.offer(res.neighbors[i]!, 1 - res.distances[i]!);
    }
    // Vectors not in the graph yet are scored exactly and merged in: a large backlog is ranked by the int8 kernel first.
    const pending = this.#pending;
    if (pending.count > 0) {
      const qd = Float64Array.from(q);
      const allowLabel = allow === undefined ? undefined : (label: number) => allow(this.#labels[label]!);
      if (pending.count >= PENDING_KERNEL_MIN) {
        rankInt8(pending, pending.head, pending.tail, quantizeQuery(q, this.dim), k, (label) => this.#dot(label, qd), top, allowLabel);
      } else {
        for (const label of pending.live()) if (allowLabel === undefined || allowLabel(label)) top.offer(label, this.#dot(label, qd));
      }
    }
    return top.sorted().map(([label, score]) => ({ id: this.#labels[label]!, score }));
  }

  /**
   * Exact top-k by cosine over the given ids (those without a live vector are
   * skipped), best first. With `key` — naming exactly this id set, as posting
   * lists do — a large set is kept as an int8 block (see FilterBlock): the
   * kernel ranks every row, and only rows whose int8 score plus its error bound
   * can reach the k-th float32 score are rescored in float32. The answer is the
   * same as scoring every row in float32.
   */
  exact(query: Float32Array, ids: Iterable<string>, k: number, options: { key?: string; stats?: ExactStats } = {}): Hit[] {
    const unit = normalised(query);
    const q = Float64Array.from(unit);
    const top = new TopK(k, this.#labels);
    const stats = options.stats ?? { kernel: false, rescored: 0 };
    stats.kernel = false;
    stats.rescored = 0;
    const block = options.key === undefined || k > BLOCK_MAX_K ? null : this.#block(options.key, ids);
    if (block instanceof FilterBlock) {
      stats.rescored = rankInt8(block, 0, block.size, quantizeQuery(unit, this.dim), k, (label) => this.#dot(label, q), top);
      stats.kernel = true;
    } else if (block !== null) {
      for (const label of block) top.offer(label, this.#dot(label, q));
      stats.rescored = block.length;
    } else {
      for (const id of ids) {
        const label = this.#byId.get(id);
        if (label === undefined || this.#live[label] === 0) continue;
        top.offer(label, this.#dot(label, q));
        stats.rescored++;
      }
    }
    return top.sorted().map(([label, score]) => ({ id: this.#labels[label]!, score }));
  }

  /** Filter blocks held and their bytes. */
  blockStats(): { blocks: number; bytes: number } {
    return { blocks: this.#blocks.count, bytes: this.#blocks.bytes };
  }

  /**
   * The block of `key`, current to this generation, built from `ids` when
   * missing or stale; or the ids' live labels when there are too few or too
   * many for a block (or blocks are off).
   */
  #block(key: string, ids: Iterable<string>): FilterBlock | number[] | null {
    if (this.#blocks.maxBytes === 0) return null;
    let b = this.#blocks.get(key);
    if (b !== undefined && b.gen < this.#liveGen && b.missing.some((id) => this.has(id))) {
      this.#blocks.delete(key); // an id of the set without a vector has one now: rebuild
      b = undefined;
    }
    if (b !== undefined) {
      if (b.gen !== this.#gen) b.refresh(this.#matrix, this.dim, this.#rowGen, this.#live, this.#gen);
      return b;
    }
    const labels: number[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const label = this.#byId.get(id);
      if (label !== undefined && this.#live[label] === 1) labels.push(label);
      else missing.push(id);
    }
    if (labels.length < BLOCK_MIN_ROWS || labels.length > BLOCK_MAX_ROWS) return labels;
    b = FilterBlock.build(key, Int32Array.from(labels), missing, this.#matrix, this.dim, this.#gen);
    if (b.bytes > this.#blocks.maxBytes) return labels;
    this.#blocks.set(b);
    return b;
  }

  /** Exact top-k over every live vector (brute force): the reference recall is measured against. */
  exactAll(query: Float32Array, k: number): Hit[] {
    const live = this.#labels.filter((_, l) => this.#live[l] === 1);
    return this.exact(query, live, k);
  }

  /** The ids of every live vector. */
  ids(): string[] {
    return this.#labels.filter((_, l) => this.#live[l] === 1);
  }

  // ---- snapshots -----------------------------------------------------------------

  /** Writes the index into `dir` (which must exist): hnswlib's file, the vectors, the labels, liveness. Drains deferred inserts first. */
  async write(dir: string): Promise<void> {
    this.drain();
    await this.#hnsw.writeIndex(join(dir, "index.hnsw"));
    const n = this.#labels.length;
    await writeFile(join(dir, "vectors.f32"), new Uint8Array(this.#matrix.buffer, 0, n * this.dim * 4));
    await writeFile(join(dir, "live.bin"), this.#live.subarray(0, n));
    const ids = Buffer.alloc(n * 16);
    this.#labels.forEach((id, i) => ids.write(id.replace(/-/g, ""), i * 16, "hex"));
    await writeFile(join(dir, "labels.bin"), ids);
  }

  /** Reads an index written by `write`. */
  static async read(dir: string, schema: string, field: string, dim: number, params: HnswParams): Promise<VectorIndex> {
    const [ids, live] = await Promise.all([readFile(join(dir, "labels.bin")), readFile(join(dir, "live.bin"))]);
    const n = ids.length / 16;
    if (!Number.isInteger(n) || live.length !== n) {
      throw new RemError("REM_ERR_INTERNAL", `vector snapshot of ${schema}.${field} in ${dir} is inconsistent`, { path: dir });
    }
    const capacity = Math.max(INITIAL_CAPACITY, n);
    const index = new VectorIndex(schema, field, dim, params, 0);
    index.#capacity = capacity;
    index.#hnsw = new HierarchicalNSW("cosine", dim);
    index.#matrix = new Float32Array(capacity * dim);
    // hnswlib parses its file on a worker thread while the vectors are read straight into the
    // matrix (no intermediate 1.5 GB buffer at 1M × 384, and no 2 GB readFile limit).
    await Promise.all([index.#hnsw.readIndex(join(dir, "index.hnsw")), readInto(join(dir, "vectors.f32"), new Uint8Array(index.#matrix.buffer, 0, n * dim * 4), dir)]);
    if (index.#hnsw.getMaxElements() < capacity) index.#hnsw.resizeIndex(capacity);
    index.#hnsw.setEf(params.efSearch);
    index.#live = new Uint8Array(capacity);
    index.#live.set(live);
    index.#graph = new Uint8Array(capacity);
    index.#pending = new PendingQueue(dim, capacity);
    index.#rowGen = new Float64Array(capacity);
    for (let i = 0; i < n; i++) {
      const id = uuidText(ids.subarray(i * 16, i * 16 + 16));
      index.#labels.push(id);
      index.#byId.set(id, i);
      // A written index had nothing deferred: every label is in the graph, deleted ones marked.
      index.#graph[i] = live[i] === 1 ? 1 : 2;
      if (live[i] === 1) index.#liveCount++;
    }
    index.#graphLive = index.#liveCount;
    return index;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    this.#hnsw.resizeIndex(capacity);
    const matrix = new Float32Array(capacity * this.dim);
    matrix.set(this.#matrix);
    this.#matrix = matrix;
    const live = new Uint8Array(capacity);
    live.set(this.#live);
    this.#live = live;
    const graph = new Uint8Array(capacity);
    graph.set(this.#graph);
    this.#graph = graph;
    this.#pending.growLabels(capacity);
    const rowGen = new Float64Array(capacity);
    rowGen.set(this.#rowGen);
    this.#rowGen = rowGen;
    this.#capacity = capacity;
  }
}

/** hnswlib-node takes plain arrays only (a loop copies 384 floats in ~0.7 µs; Array.from takes ~9 µs). */
function toArray(v: Float32Array): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]!;
  return out;
}

function normalised(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm === 0 || Math.abs(norm - 1) < 1e-6) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

/** Extra graph candidates fetched so ties at the k-th place are decided by id. */
const TIE_SLACK = 4;

/**
 * The k best (label, score) pairs, kept in a small sorted array (k is small):
 * higher score first, equal scores by entity id, so results do not depend on
 * insertion order.
 */
class TopK {
  readonly k: number;
  readonly #ids: readonly string[];
  readonly #items: [number, number][] = [];

  constructor(k: number, ids: readonly string[]) {
    this.k = k;
    this.#ids = ids;
  }

  /** Whether (la, sa) ranks before (lb, sb). */
  #before(la: number, sa: number, lb: number, sb: number): boolean {
    return sa > sb || (sa === sb && this.#ids[la]! < this.#ids[lb]!);
  }

  offer(label: number, score: number): void {
    const items = this.#items;
    if (items.length === this.k) {
      const last = items[items.length - 1]!;
      if (!this.#before(label, score, last[0], last[1])) return;
    }
    let i = items.length;
    while (i > 0 && this.#before(label, score, items[i - 1]![0], items[i - 1]![1])) i--;
    items.splice(i, 0, [label, score]);
    if (items.length > this.k) items.pop();
  }

  /** The score a row must reach to enter: the k-th best so far, or −∞ while fewer than k are held. */
  bar(): number {
    return this.#items.length === this.k ? this.#items[this.k - 1]![1] : Number.NEGATIVE_INFINITY;
  }

  sorted(): [number, number][] {
    return this.#items;
  }
}

/** Reads the whole file at `path` into `into`, which must be exactly its size. */
async function readInto(path: string, into: Uint8Array, dir: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    if (size !== into.length) throw new RemError("REM_ERR_INTERNAL", `vector snapshot in ${dir} is inconsistent: ${path} holds ${size} bytes, expected ${into.length}`, { path: dir });
    const CHUNK = 64 * 1024 * 1024;
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(into, at, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) throw new RemError("REM_ERR_INTERNAL", `vector snapshot in ${dir}: ${path} ended early`, { path: dir });
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
