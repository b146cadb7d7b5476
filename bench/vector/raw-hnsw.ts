import hnswlib from "hnswlib-node";
import { progress } from "../lib/report.js";
import { nowMs } from "../lib/timing.js";
import type { VectorBenchConfig } from "./config.js";
import type { Dataset } from "./dataset.js";
import type { Engine } from "./interleave.js";

const { HierarchicalNSW } = hnswlib;
export type Hnsw = InstanceType<typeof HierarchicalNSW>;

/** A plain array copy of row i (hnswlib-node takes number[] only). */
export function rowArray(m: Float32Array, i: number, dim: number): number[] {
  const out = new Array<number>(dim);
  const off = i * dim;
  for (let j = 0; j < dim; j++) out[j] = m[off + j]!;
  return out;
}

/**
 * The baseline: hnswlib-node used directly, with REM's parameters (cosine, M,
 * efConstruction, the same random seed), labels = data set indexes, points
 * added in data set order.
 */
export function buildRawHnsw(ds: Dataset, cfg: VectorBenchConfig): { index: Hnsw; buildS: number } {
  const index = new HierarchicalNSW("cosine", ds.dim);
  const t0 = nowMs();
  index.initIndex({ maxElements: ds.n, m: cfg.hnsw.m, efConstruction: cfg.hnsw.efConstruction, randomSeed: 100 });
  const step = Math.max(1, Math.floor(ds.n / 10));
  for (let i = 0; i < ds.n; i++) {
    index.addPoint(rowArray(ds.vectors, i, ds.dim), i);
    if ((i + 1) % step === 0) progress(`  hnswlib build: ${i + 1} / ${ds.n} (${((nowMs() - t0) / 1000).toFixed(0)} s)`);
  }
  return { index, buildS: (nowMs() - t0) / 1000 };
}

/**
 * `searchKnn` on pre-converted query arrays (the conversion is not timed: the
 * baseline is the library call alone), optionally with a filter callback.
 */
export function rawEngine(name: string, index: Hnsw, queries: readonly number[][], k: number, ef: number, filter?: (label: number) => boolean): Engine<number[]> {
  return {
    name,
    run(q) {
      index.setEf(ef);
      return index.searchKnn(queries[q]!, k, filter).neighbors;
    },
    ids: (r) => r,
  };
}
