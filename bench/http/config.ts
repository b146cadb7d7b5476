/** Sizes for `npm run bench -- http [--quick]`. */
export interface HttpBenchConfig {
  readonly mode: "quick" | "full";
  /** Seconds per autocannon run. */
  readonly seconds: number;
  /** Runs per figure (the median is quoted). */
  readonly reps: number;
  /** Concurrent connections for the GET runs. */
  readonly getConnections: number;
  /** Concurrent connections for the POST runs (each request is a 100-entity commit). */
  readonly postConnections: number;
  /** Entities per POST (the batch size). */
  readonly batch: number;
  /** Entities seeded before the GET runs (the rotating-id run reads them all). */
  readonly seed: number;
}

export function httpBenchConfig(quick: boolean): HttpBenchConfig {
  return quick
    ? { mode: "quick", seconds: 3, reps: 1, getConnections: 32, postConnections: 16, batch: 100, seed: 2000 }
    : { mode: "full", seconds: 10, reps: 3, getConnections: 32, postConnections: 16, batch: 100, seed: 20_000 };
}
