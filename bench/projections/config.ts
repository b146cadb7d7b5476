/** Sizes for `npm run bench -- projections [--quick]`. */
export interface ProjectionBenchConfig {
  readonly mode: "quick" | "full";
  /** Entities in the log (one upsert each). */
  readonly entities: number;
  readonly perCommit: number;
  /** Distinct categories: 1 / categories is the selectivity of `category = …` (0.1%). */
  readonly categories: number;
  readonly rebuildReps: number;
  /** Timed single operations for latency figures. */
  readonly samples: number;
  readonly insertReps: number;
}

export function projectionBenchConfig(quick: boolean): ProjectionBenchConfig {
  return quick
    ? { mode: "quick", entities: 100_000, perCommit: 1000, categories: 1000, rebuildReps: 1, samples: 2000, insertReps: 10 }
    : { mode: "full", entities: 1_000_000, perCommit: 1000, categories: 1000, rebuildReps: 3, samples: 20_000, insertReps: 30 };
}
