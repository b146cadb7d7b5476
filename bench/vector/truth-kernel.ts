/**
 * Brute-force top-k by dot product (= cosine on unit vectors), for ground
 * truth. Plain JS: four queries per pass over the data, so each data component
 * is loaded once for four independent accumulators.
 */

/** The k best (index, score) pairs seen so far, kept sorted, best first. */
export class TopK {
  readonly ids: Int32Array;
  readonly scores: Float64Array;

  constructor(k: number) {
    this.ids = new Int32Array(k).fill(-1);
    this.scores = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  }

  offer(id: number, score: number): void {
    const s = this.scores;
    const last = s.length - 1;
    if (score <= s[last]!) return;
    let p = last;
    while (p > 0 && s[p - 1]! < score) {
      s[p] = s[p - 1]!;
      this.ids[p] = this.ids[p - 1]!;
      p--;
    }
    s[p] = score;
    this.ids[p] = id;
  }
}

export interface TruthJob {
  readonly vectors: Float32Array;
  readonly queries: Float32Array;
  readonly dim: number;
  readonly k: number;
  /** Queries [from, to). */
  readonly from: number;
  readonly to: number;
  /** Rows with i % buckets === filterBucket form the filtered set. */
  readonly buckets: number;
  readonly filterBucket: number;
}

/** For each query in [from, to): the exact top-k over all rows and over the filtered rows (k ids each, best first). */
export function bruteForce(job: TruthJob): { all: Int32Array<ArrayBuffer>; filtered: Int32Array<ArrayBuffer> } {
  const { vectors: v, queries: qs, dim, k, from, to, buckets, filterBucket } = job;
  const n = v.length / dim;
  const all = new Int32Array((to - from) * k);
  const filtered = new Int32Array((to - from) * k);
  for (let q0 = from; q0 < to; q0 += 4) {
    const width = Math.min(4, to - q0);
    // Short blocks repeat their last query (its results are simply not kept).
    const o0 = q0 * dim;
    const o1 = (q0 + Math.min(1, width - 1)) * dim;
    const o2 = (q0 + Math.min(2, width - 1)) * dim;
    const o3 = (q0 + Math.min(3, width - 1)) * dim;
    const tops = [new TopK(k), new TopK(k), new TopK(k), new TopK(k)] as const;
    const ftops = [new TopK(k), new TopK(k), new TopK(k), new TopK(k)] as const;
    for (let i = 0; i < n; i++) {
      const r = i * dim;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < dim; j++) {
        const x = v[r + j]!;
        a0 += x * qs[o0 + j]!;
        a1 += x * qs[o1 + j]!;
        a2 += x * qs[o2 + j]!;
        a3 += x * qs[o3 + j]!;
      }
      tops[0].offer(i, a0);
      tops[1].offer(i, a1);
      tops[2].offer(i, a2);
      tops[3].offer(i, a3);
      if (i % buckets === filterBucket) {
        ftops[0].offer(i, a0);
        ftops[1].offer(i, a1);
        ftops[2].offer(i, a2);
        ftops[3].offer(i, a3);
      }
    }
    for (let w = 0; w < width; w++) {
      all.set(tops[w]!.ids, (q0 - from + w) * k);
      filtered.set(ftops[w]!.ids, (q0 - from + w) * k);
    }
  }
  return { all, filtered };
}
