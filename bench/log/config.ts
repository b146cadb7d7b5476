/**
 * Sizes of the log suite; the full run follows the brief (~200k events per
 * figure, ≥3 repetitions). Full mode takes 5 repetitions: on the 2-core VM the
 * same CPU-bound loop varies up to 2x from one half-second to the next, and
 * the median of 5 is much steadier than the median of 3.
 */
export interface LogBenchConfig {
  readonly mode: "quick" | "full";
  /** Events per measurement (a whole number of commits). */
  readonly events: number;
  /** Events per commit / per raw message / per Emmett append. */
  readonly batch: number;
  /** Commits (or raw publishes, or raw writes) outstanding at once. */
  readonly inFlight: number;
  /** Repetitions of each measurement; the median is reported. */
  readonly reps: number;
  /** Emmett's consumer checkpoints every message (~2-3k events/s here): it reads a smaller slice so the run stays short. */
  readonly emmettConsumerEvents: number;
  /** Concurrent Emmett appenders, one stream each: one per connection of Emmett's pool (pg's default of 10). */
  readonly emmettStreams: number;
  /** Minimum duration of one micro-benchmark sample. */
  readonly microMs: number;
}

export function logBenchConfig(quick: boolean): LogBenchConfig {
  return quick
    ? { mode: "quick", events: 20_000, batch: 100, inFlight: 256, reps: 2, emmettConsumerEvents: 4_000, emmettStreams: 10, microMs: 150 }
    : { mode: "full", events: 200_000, batch: 100, inFlight: 256, reps: 5, emmettConsumerEvents: 10_000, emmettStreams: 10, microMs: 500 };
}
