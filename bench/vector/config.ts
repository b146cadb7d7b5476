/** Sizes and parameters of `npm run bench -- vector [--quick]`. */
export interface VectorBenchConfig {
  readonly mode: "quick" | "full";
  /** Vectors in the data set (entities in REM, rows in LanceDB). */
  readonly n: number;
  readonly dim: number;
  /** Gaussian clusters the vectors are drawn around. */
  readonly clusters: number;
  /** Per-component standard deviation of the noise around a (unit) cluster centre, before normalising. */
  readonly sigma: number;
  /** Query vectors (drawn like the data, near random clusters). */
  readonly queries: number;
  /** Queries timed per figure after a warm-up of `warmup` untimed ones (the same queries, recall over all). */
  readonly warmup: number;
  readonly topK: number;
  /** Entities per `insertEntities` call while loading REM. */
  readonly insertBatch: number;
  /** `bucket = i % buckets`: `bucket = 7` selects 1 / buckets of the data. */
  readonly buckets: number;
  readonly filterBucket: number;
  /** Queries for the filtered figures (each can be slow: fewer than `queries` at 1M). */
  readonly filteredQueries: number;
  /** HNSW parameters: REM's defaults (projections/vectors/vector-index.ts DEFAULT_HNSW). */
  readonly hnsw: { readonly m: number; readonly efConstruction: number; readonly efSearch: number };
  /** Search breadths tried on both hnswlib and REM, for the recall/latency curve. */
  readonly efSweep: readonly number[];
  /** Local embedder: texts per timed run, runs. */
  readonly embedTexts: number;
  readonly embedReps: number;
  /** Durable inserts of 1,000 locally embedded documents. */
  readonly insertReps: number;
  /** LanceDB IVF_HNSW_SQ partitions, and the (nprobes, ef) grid searched to match REM's recall. */
  readonly lance: { readonly partitions: number; readonly nprobes: readonly number[]; readonly ef: readonly number[]; readonly refineFactor: number };
  /** Seed of every random choice (data, queries). */
  readonly seed: number;
}

/** `REM_BENCH_VECTOR_N` overrides the number of vectors (a smoke test of the suite itself on a small set). */
export function vectorBenchConfig(quick: boolean, env: NodeJS.ProcessEnv = process.env): VectorBenchConfig {
  const cfg = baseConfig(quick);
  const n = Number(env.REM_BENCH_VECTOR_N ?? "");
  return Number.isInteger(n) && n > 0 ? { ...cfg, n } : cfg;
}

function baseConfig(quick: boolean): VectorBenchConfig {
  const common = {
    dim: 384,
    clusters: 1000,
    sigma: 0.05,
    queries: 1000,
    warmup: 100,
    topK: 10,
    insertBatch: 1000,
    buckets: 100,
    filterBucket: 7,
    hnsw: { m: 16, efConstruction: 200, efSearch: 128 },
    efSweep: [16, 32, 64, 128, 256],
    embedTexts: 5000,
    seed: 20261122,
  } as const;
  return quick
    ? { ...common, mode: "quick", n: 100_000, filteredQueries: 1000, embedReps: 3, insertReps: 10, lance: { partitions: 4, nprobes: [1, 2, 4], ef: [16, 32, 64, 128], refineFactor: 2 } }
    : { ...common, mode: "full", n: 1_000_000, filteredQueries: 300, embedReps: 5, insertReps: 30, lance: { partitions: 16, nprobes: [1, 2, 4, 8], ef: [16, 32, 64, 128, 256], refineFactor: 2 } };
}
