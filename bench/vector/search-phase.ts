import type { Tenant } from "../../src/node/tenant.js";
import { progress, ratio } from "../lib/report.js";
import type { VectorBenchConfig } from "./config.js";
import type { Dataset } from "./dataset.js";
import type { GroundTruth } from "./ground-truth.js";
import { interleave, type EngineFigures } from "./interleave.js";
import { rawEngine, rowArray, type Hnsw } from "./raw-hnsw.js";
import { remEngine } from "./rem-search.js";

export interface SweepRow {
  readonly ef: number;
  readonly raw: EngineFigures;
  readonly rem: EngineFigures;
  /** REM p50 / hnswlib p50. */
  readonly remVsRaw: number;
  readonly remStrategies: Record<string, number>;
}

export interface SearchPhase {
  /** One row per ef: hnswlib `searchKnn` and REM `searchEntities`, interleaved on the same queries. */
  readonly sweep: SweepRow[];
  /** The ef the headline target is read at: REM's default if it reaches the recall target, else the smallest that does. */
  readonly headlineEf: number;
  readonly filtered: {
    readonly where: string;
    readonly raw: EngineFigures;
    readonly rem: EngineFigures;
    readonly remStrategies: Record<string, number>;
    readonly remCandidates: number | null;
  };
}

/**
 * Unfiltered: for each ef of the sweep, hnswlib and REM on every query,
 * interleaved. Filtered (`bucket = b`, 1%): hnswlib with a filter callback
 * (label → bucket) at the default ef, and REM with `where`, interleaved.
 */
export async function searchPhase(raw: Hnsw, t: () => Tenant, ds: Dataset, cfg: VectorBenchConfig, truth: GroundTruth, queries: readonly Float32Array[], recallTarget: number): Promise<SearchPhase> {
  const rawQueries = Array.from({ length: ds.queryCount }, (_, q) => rowArray(ds.queries, q, ds.dim));
  const sweep: SweepRow[] = [];
  for (const ef of cfg.efSweep) {
    // REM's own default path (no ef in the request) when ef is its default.
    const rem = remEngine("rem", t, ds, queries, { topK: cfg.topK, ef: ef === cfg.hnsw.efSearch ? undefined : ef });
    const r = await interleave([rawEngine("raw", raw, rawQueries, cfg.topK, ef), rem], ds.queryCount, cfg.warmup, truth.all, cfg.topK);
    const row = { ef, raw: r["raw"]!, rem: r["rem"]!, remVsRaw: ratio(r["rem"]!.latency.p50, r["raw"]!.latency.p50), remStrategies: rem.strategies };
    progress(`  ef ${ef}: hnswlib p50 ${row.raw.latency.p50.toFixed(3)} ms recall ${row.raw.recall.toFixed(4)} | REM p50 ${row.rem.latency.p50.toFixed(3)} ms recall ${row.rem.recall.toFixed(4)} (${row.remVsRaw}x)`);
    sweep.push(row);
  }
  const byDefault = sweep.find((s) => s.ef === cfg.hnsw.efSearch);
  const reaching = sweep.filter((s) => s.rem.recall >= recallTarget).map((s) => s.ef);
  const headlineEf = byDefault !== undefined && byDefault.rem.recall >= recallTarget ? byDefault.ef : (reaching[0] ?? cfg.efSweep[cfg.efSweep.length - 1]!);

  const where = `bucket = ${cfg.filterBucket}`;
  const fb = cfg.filterBucket;
  const buckets = cfg.buckets;
  const rem = remEngine("rem", t, ds, queries, { topK: cfg.topK, where });
  const rawF = rawEngine("raw", raw, rawQueries, cfg.topK, cfg.hnsw.efSearch, (label) => label % buckets === fb);
  progress(`  filtered (${where}): ${cfg.filteredQueries} queries`);
  const f = await interleave([rawF, rem], cfg.filteredQueries, Math.min(cfg.warmup, 20), truth.filtered, cfg.topK);
  progress(`  filtered: hnswlib+filter p50 ${f["raw"]!.latency.p50.toFixed(2)} ms recall ${f["raw"]!.recall.toFixed(4)} | REM p50 ${f["rem"]!.latency.p50.toFixed(2)} ms recall ${f["rem"]!.recall.toFixed(4)} ${JSON.stringify(rem.strategies)}`);
  return { sweep, headlineEf, filtered: { where, raw: f["raw"]!, rem: f["rem"]!, remStrategies: rem.strategies, remCandidates: rem.candidates() } };
}
