import type { LatencySummary } from "../lib/stats.js";
import type { Rate } from "../lib/timing.js";
import type { VectorBenchConfig } from "./config.js";
import type { LanceResult } from "./lance-peer.js";
import type { OpenFigure } from "./rem-open.js";
import type { SearchPhase } from "./search-phase.js";
import { atLeast, atMost, flag, peerTarget, recallAtLeast } from "./targets.js";
import type { Target } from "../lib/report.js";

export interface SummaryInput {
  readonly cfg: VectorBenchConfig;
  readonly search: SearchPhase;
  readonly snapshot: OpenFigure;
  readonly embedder: Rate;
  readonly insert: LatencySummary;
  readonly lance: LanceResult | { error: string };
  readonly recallTarget: number;
}

/** The targets, as stated for 1M vectors, read on whatever size ran. */
export function summarizeTargets(s: SummaryInput): { targets: Record<string, Target>; failed: string[] } {
  const headline = s.search.sweep.find((r) => r.ef === s.search.headlineEf)!;
  const atDefault = s.search.sweep.find((r) => r.ef === s.cfg.hnsw.efSearch);
  const f = s.search.filtered;
  const lance = "error" in s.lance ? undefined : s.lance;
  const targets: Record<string, Target> = {
    "search.p50Ms": atMost(headline.rem.latency.p50, 1, "ms"),
    "search.recallAt10": recallAtLeast(headline.rem.recall, s.recallTarget),
    "search.remVsRawHnswlib": atMost(atDefault?.remVsRaw ?? Number.NaN, 1.3, "x"),
    "filtered.p50Ms": atMost(f.rem.latency.p50, 2, "ms"),
    "filtered.recallAt10": recallAtLeast(f.rem.recall, 0.99),
    "filtered.scoredExactly": flag(Object.keys(f.remStrategies).length === 1 && f.remStrategies["exact"] !== undefined),
    "lancedb.unfiltered.remSpeedup": peerTarget(lance?.unfiltered, 2),
    "lancedb.filtered.remSpeedup": peerTarget(lance?.filtered, 2),
    "open.fromSnapshotS": { ...atMost(s.snapshot.wallS, 5, "s"), pass: s.snapshot.source === "snapshot" && s.snapshot.wallS <= 5 },
    "embedder.docsPerS": atLeast(s.embedder.median, 5000, "docs/s"),
    "insert1000.p50Ms": atMost(s.insert.p50, 500, "ms"),
  };
  const failed = Object.entries(targets)
    .filter(([, t]) => !t.pass)
    .map(([k]) => k);
  return { targets, failed };
}
