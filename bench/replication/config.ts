/** Workload sizes of the replication suite (quick: a smoke run of about a minute). */
export interface ReplicationBenchConfig {
  readonly mode: "quick" | "full";
  /** Commits per second the lag measurement writes (the "1k commits/s steady"). */
  readonly lagRate: number;
  /** How long the steady load runs (s). */
  readonly lagSeconds: number;
  /** Events the primary writes while the replica is away, in commits of `catchUpBatch` events. */
  readonly catchUpEvents: number;
  readonly catchUpBatch: number;
  /** Catch-up repetitions (median quoted). */
  readonly reps: number;
  /** Events archived to S3 (s3rver on loopback) and restored with projections. */
  readonly restoreEvents: number;
}

export function replicationBenchConfig(quick: boolean): ReplicationBenchConfig {
  return quick
    ? { mode: "quick", lagRate: 1000, lagSeconds: 5, catchUpEvents: 100_000, catchUpBatch: 100, reps: 1, restoreEvents: 100_000 }
    : { mode: "full", lagRate: 1000, lagSeconds: 20, catchUpEvents: 500_000, catchUpBatch: 100, reps: 3, restoreEvents: 1_000_000 };
}
