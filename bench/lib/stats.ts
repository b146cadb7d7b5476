/** Order statistics for benchmark samples. Pure functions, no I/O. */

/** Nearest-rank percentile (p in [0, 100]) of a non-empty sample; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Median; for an even count, the mean of the two middle values. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every sample, in measurement order (so drift across repetitions stays visible). */
  readonly samples: number[];
}

export function summarize(samples: readonly number[]): Summary {
  return {
    median: median(samples),
    min: samples.length === 0 ? Number.NaN : Math.min(...samples),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
    samples: [...samples],
  };
}

/** Latency distribution of many individual operations (ms). */
export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly count: number;
}

export function latencies(samplesMs: readonly number[]): LatencySummary {
  return {
    p50: percentile(samplesMs, 50),
    p95: percentile(samplesMs, 95),
    max: samplesMs.reduce((m, x) => (x > m ? x : m), Number.NEGATIVE_INFINITY),
    count: samplesMs.length,
  };
}
