/** Sizes for `npm run bench -- export [--quick]`. */
export interface ExportBenchConfig {
  readonly mode: "quick" | "full";
  /** Entities of the benchmark schema (one upsert each). */
  readonly rows: number;
  readonly perCommit: number;
  /** Timed full exports (and as many DuckDB COPYs of the same rows). */
  readonly exportReps: number;
  /** Timed runs of each `rem sql` aggregate (after one warm-up). */
  readonly sqlReps: number;
  /** Entities changed before the timed incremental export. */
  readonly changes: number;
}

export function exportBenchConfig(quick: boolean): ExportBenchConfig {
  return quick
    ? { mode: "quick", rows: 100_000, perCommit: 1000, exportReps: 5, sqlReps: 9, changes: 1000 }
    : { mode: "full", rows: 1_000_000, perCommit: 1000, exportReps: 5, sqlReps: 15, changes: 10_000 };
}
