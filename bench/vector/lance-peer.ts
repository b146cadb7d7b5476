import { progress } from "../lib/report.js";
import type { VectorBenchConfig } from "./config.js";
import type { Dataset } from "./dataset.js";
import type { GroundTruth } from "./ground-truth.js";
import { interleave, type Engine, type EngineFigures } from "./interleave.js";
import { loadLance, type LanceTable } from "./lance-load.js";
import { describeLance, lanceEngine, type LanceParams } from "./lance-search.js";

/** Recall within this of REM's counts as "equal" when picking LanceDB's operating point. */
export const RECALL_TOLERANCE = 0.005;

export interface SweepPoint {
  readonly params: string;
  readonly p50: number;
  readonly p95: number;
  readonly recall: number;
}

export interface PeerComparison {
  /** LanceDB's chosen operating point (the fastest reaching REM's recall, else its most accurate). */
  readonly lanceParams: string;
  readonly lance: EngineFigures;
  /** REM on the same queries, interleaved query by query with LanceDB. */
  readonly rem: EngineFigures;
  /** LanceDB p50 / REM p50. */
  readonly remSpeedup: number;
  readonly sweep: SweepPoint[];
}

export interface LanceResult {
  readonly version: string;
  readonly build: Omit<LanceTable, "lance" | "db" | "table">;
  readonly unfiltered: PeerComparison;
  /** The chosen unfiltered point with refineFactor (re-ranking on full vectors after the SQ search). */
  readonly refined: SweepPoint;
  readonly filtered: PeerComparison;
}

async function sweep(t: LanceTable, queries: readonly Float32Array[], truth: Int32Array, k: number, count: number, grid: readonly LanceParams[]): Promise<(SweepPoint & { p: LanceParams })[]> {
  const out: (SweepPoint & { p: LanceParams })[] = [];
  for (const p of grid) {
    const f = (await interleave([lanceEngine("lance", t.table, queries, k, p)], count, 10, truth, k))["lance"]!;
    const point = { p, params: describeLance(p), p50: f.latency.p50, p95: f.latency.p95, recall: f.recall };
    progress(`    LanceDB ${point.params}: p50 ${point.p50.toFixed(2)} ms, recall ${point.recall.toFixed(3)}`);
    out.push(point);
  }
  return out;
}

/** The fastest point whose recall reaches `target` (within the tolerance), else the most accurate one. */
function choose<T extends SweepPoint>(points: readonly T[], target: number): T {
  const good = points.filter((p) => p.recall >= target - RECALL_TOLERANCE);
  if (good.length > 0) return good.reduce((a, b) => (b.p50 < a.p50 ? b : a));
  return points.reduce((a, b) => (b.recall > a.recall || (b.recall === a.recall && b.p50 < a.p50) ? b : a));
}

async function compare(
  t: LanceTable,
  queries: readonly Float32Array[],
  truth: Int32Array,
  cfg: VectorBenchConfig,
  count: number,
  grid: readonly LanceParams[],
  rem: Engine,
  remRecall: number,
): Promise<PeerComparison & { chosen: LanceParams }> {
  const points = await sweep(t, queries, truth, cfg.topK, Math.min(count, 200), grid);
  const best = choose(points, remRecall);
  progress(`  LanceDB operating point: ${best.params} (sweep recall ${best.recall.toFixed(3)} vs REM ${remRecall.toFixed(3)}); interleaved with REM over ${count} queries`);
  const r = await interleave([lanceEngine("lance", t.table, queries, cfg.topK, best.p), rem], count, cfg.warmup, truth, cfg.topK);
  const lance = r["lance"]!;
  const remF = r[rem.name]!;
  return {
    chosen: best.p,
    lanceParams: best.params,
    lance,
    rem: remF,
    remSpeedup: lance.latency.p50 / remF.latency.p50,
    sweep: points.map(({ p: _p, ...s }) => s),
  };
}

/**
 * LanceDB on the same data and queries: load and index, sweep (nprobes, ef)
 * to find the point matching REM's recall, then time that point against REM
 * interleaved. Filtered: the same with `where` (prefilter, bitmap index), plus
 * LanceDB's flat (exact) search over the filtered rows.
 */
export async function lancePeer(
  dir: string,
  ds: Dataset,
  cfg: VectorBenchConfig,
  truth: GroundTruth,
  queries: readonly Float32Array[],
  rem: { unfiltered: Engine; unfilteredRecall: number; filtered: Engine; filteredRecall: number },
): Promise<LanceResult> {
  const t = await loadLance(dir, ds, cfg);
  try {
    const version = await lanceVersion();
    progress(`  LanceDB ${version}: indexes built (vector ${t.vectorIndexS.toFixed(1)} s, bitmap ${t.scalarIndexS.toFixed(1)} s): ${t.indexes.join("; ")}`);
    const grid: LanceParams[] = [];
    for (const nprobes of cfg.lance.nprobes) for (const ef of cfg.lance.ef) grid.push({ nprobes, ef });
    const unfiltered = await compare(t, queries, truth.all, cfg, ds.queryCount, grid, rem.unfiltered, rem.unfilteredRecall);
    const refinedP: LanceParams = { ...unfiltered.chosen, refineFactor: cfg.lance.refineFactor };
    const [refinedPoint] = await sweep(t, queries, truth.all, cfg.topK, Math.min(ds.queryCount, 200), [refinedP]);
    const where = `bucket = ${cfg.filterBucket}`;
    const efs = [...new Set([cfg.lance.ef[Math.floor(cfg.lance.ef.length / 2)]!, cfg.lance.ef[cfg.lance.ef.length - 1]!])];
    const fgrid: LanceParams[] = [{ nprobes: 1, ef: 0, where, flat: true }];
    for (const nprobes of cfg.lance.nprobes) for (const ef of efs) fgrid.push({ nprobes, ef, where });
    const filtered = await compare(t, queries, truth.filtered, cfg, cfg.filteredQueries, fgrid, rem.filtered, rem.filteredRecall);
    const { lance: _l, db: _d, table: _t, ...build } = t;
    const strip = ({ chosen: _c, ...c }: PeerComparison & { chosen: LanceParams }): PeerComparison => c;
    const { p: _p, ...refined } = refinedPoint!;
    return { version, build, unfiltered: strip(unfiltered), refined, filtered: strip(filtered) };
  } finally {
    t.table.close();
    t.db.close();
  }
}

async function lanceVersion(): Promise<string> {
  const { createRequire } = await import("node:module");
  const { readFile } = await import("node:fs/promises");
  const { dirname, join } = await import("node:path");
  // The package does not export its package.json: read it next to its entry point (dist/index.js).
  const main = createRequire(import.meta.url).resolve("@lancedb/lancedb");
  const pkg = JSON.parse(await readFile(join(dirname(main), "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}
