import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Dataset } from "./dataset.js";
import type { TruthJob } from "./truth-kernel.js";

/** Exact top-k ids per query (k per query, best first), unfiltered and over the filtered rows. */
export interface GroundTruth {
  readonly k: number;
  readonly all: Int32Array;
  readonly filtered: Int32Array;
}

/**
 * Brute force over every vector for every query, split across worker threads
 * (one per core) that read the shared data set in place. Setup, not timed.
 */
export async function groundTruth(ds: Dataset, k: number, buckets: number, filterBucket: number): Promise<GroundTruth> {
  const workers = Math.max(1, Math.min(availableParallelism(), 4));
  const per = Math.ceil(ds.queryCount / workers / 4) * 4;
  const all = new Int32Array(ds.queryCount * k);
  const filtered = new Int32Array(ds.queryCount * k);
  const jobs: Promise<void>[] = [];
  for (let from = 0; from < ds.queryCount; from += per) {
    const to = Math.min(ds.queryCount, from + per);
    const job: TruthJob = { vectors: ds.vectors, queries: ds.queries, dim: ds.dim, k, from, to, buckets, filterBucket };
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL("./truth-worker.js", import.meta.url), { workerData: job });
        w.once("message", (r: { all: Int32Array; filtered: Int32Array }) => {
          all.set(r.all, from * k);
          filtered.set(r.filtered, from * k);
          resolve();
        });
        w.once("error", reject);
        w.once("exit", (code) => {
          if (code !== 0) reject(new Error(`ground-truth worker exited with ${code}`));
        });
      }),
    );
  }
  await Promise.all(jobs);
  return { k, all, filtered };
}

/** Recall@k of `got` (dataset indexes) against the truth of query q. */
export function recallAt(truth: Int32Array, k: number, q: number, got: readonly number[]): number {
  let hit = 0;
  const base = q * k;
  for (const id of got) {
    for (let j = 0; j < k; j++) {
      if (truth[base + j] === id) {
        hit++;
        break;
      }
    }
  }
  return hit / k;
}
