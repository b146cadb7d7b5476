import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { tempDir } from "../../test/support/tmp.js";
import { cpuProbe } from "../lib/cpu-probe.js";
import { progress, ratio } from "../lib/report.js";
import type { Suite } from "../lib/suite.js";
import { nowMs } from "../lib/timing.js";
import { vectorBenchConfig } from "./config.js";
import { makeDataset } from "./dataset.js";
import { searchBreakdown } from "./breakdown.js";
import { collect, rssMb } from "./gc.js";
import { groundTruth } from "./ground-truth.js";
import { interleave } from "./interleave.js";
import { lancePeer, type LanceResult } from "./lance-peer.js";
import { embedderRate, insert1000, insertWithoutIndex } from "./local-embed.js";
import { buildRawHnsw, type Hnsw } from "./raw-hnsw.js";
import { loadDataset } from "./rem-load.js";
import { dirBytes, timePostings, timeVectorsOpen } from "./rem-open.js";
import { queryCopies, remEngine } from "./rem-search.js";
import { createBenchTenant } from "./rem-tenant.js";
import { searchPhase } from "./search-phase.js";
import { summarizeTargets } from "./summary.js";

const RECALL_TARGET = 0.95;

/**
 * `npm run bench -- vector [--quick]`: 1M clustered 384-d vectors (quick:
 * 100k) in REM, loaded through `insertEntities` with recorded embeddings; REM's
 * `searchEntities` against raw hnswlib-node with the same parameters and
 * against LanceDB (IVF_HNSW_SQ), unfiltered and filtered to 1%, with recall
 * against brute force; opening the index from its snapshot vs building it;
 * the local embedder and a 1,000-document insert with local embeddings.
 */
export const vectorSuite: Suite = {
  name: "vector",
  description: "vector search: REM vs raw hnswlib and LanceDB, recall, filtered search, snapshot open, local embedder",
  async run({ quick, cleanup }) {
    const cfg = vectorBenchConfig(quick);
    const loadBefore = loadavg()[0]!;
    const probes = [cpuProbe()];
    const rss: Record<string, number> = {};
    const tmp = await tempDir("rem-bench-vector-");
    cleanup.add("vector temp dir", () => tmp.cleanup());
    progress(`vector suite (${cfg.mode}): ${cfg.n} vectors × ${cfg.dim}, ${cfg.clusters} clusters (sigma ${cfg.sigma}), ${cfg.queries} queries, M ${cfg.hnsw.m}, efConstruction ${cfg.hnsw.efConstruction}, ef ${cfg.hnsw.efSearch}`);

    let t0 = nowMs();
    const ds = makeDataset({ n: cfg.n, dim: cfg.dim, clusters: cfg.clusters, sigma: cfg.sigma, queries: cfg.queries, seed: cfg.seed });
    const datasetS = (nowMs() - t0) / 1000;
    progress(`data set generated in ${datasetS.toFixed(1)} s; ground truth (brute force, ${cfg.queries} queries, worker threads)`);
    t0 = nowMs();
    const truth = await groundTruth(ds, cfg.topK, cfg.buckets, cfg.filterBucket);
    const truthS = (nowMs() - t0) / 1000;
    progress(`ground truth in ${truthS.toFixed(1)} s`);
    const queries = queryCopies(ds);

    progress("local embedder (local:hash-384)");
    const embedder = await embedderRate(cfg);
    progress(`  ${Math.round(embedder.median)} docs/s (~${embedder.textChars} chars)`);
    probes.push(cpuProbe());

    progress(`raw hnswlib-node build (${cfg.n} points)`);
    let raw: Hnsw | null;
    let rawBuildS: number;
    {
      const built = buildRawHnsw(ds, cfg);
      raw = built.index;
      rawBuildS = built.buildS;
    }
    rss["afterRawBuild"] = rssMb();
    progress(`  built in ${rawBuildS.toFixed(1)} s`);
    probes.push(cpuProbe());

    const bt = await createBenchTenant(join(tmp.path, "rem"));
    cleanup.add("bench tenant", () => bt.tenant.close());
    progress(`REM: loading ${cfg.n} entities through insertEntities (batches of ${cfg.insertBatch}, recorded embeddings)`);
    const load = await loadDataset(bt.tenant, ds, cfg);
    progress(`  loaded in ${load.seconds.toFixed(1)} s (${Math.round(load.entitiesPerS)} entities/s); building the HNSW index from the stored vectors`);
    const rebuild = await timeVectorsOpen(bt.tenant);
    if (rebuild.source !== "rebuild") throw new Error(`expected a build from stored vectors, got ${rebuild.source}`);
    progress(`  built in ${rebuild.wallS.toFixed(1)} s (${rebuild.vectors} vectors)`);
    const postingsBuilt = await timePostings(bt.tenant);
    progress(`  posting lists (filtered search) ready ${postingsBuilt.seconds.toFixed(2)} s later: ${postingsBuilt.lists} lists, ${postingsBuilt.entries} entries`);
    rss["afterRemBuild"] = rssMb();
    probes.push(cpuProbe());

    progress("searches: hnswlib vs REM, interleaved");
    const search = await searchPhase(raw, () => bt.tenant, ds, cfg, truth, queries, RECALL_TARGET);
    raw = null;
    rss["afterRawFreed"] = collect();
    progress("where a search spends its time (diagnostic)");
    const breakdown = await searchBreakdown(bt.tenant, ds, queries, {
      topK: cfg.topK,
      ef: search.headlineEf === cfg.hnsw.efSearch ? undefined : search.headlineEf,
      where: search.filtered.where,
      count: Math.min(50, cfg.filteredQueries),
    });
    progress(`  ${JSON.stringify(breakdown)}`);
    probes.push(cpuProbe());

    progress("close (snapshot), reopen, load the snapshot");
    const closeS = await bt.close();
    const snapshotBytes = await dirBytes(bt.vectorsDir);
    t0 = nowMs();
    await bt.open();
    const reopenS = (nowMs() - t0) / 1000;
    rss["afterReopen"] = collect();
    const snapshot = await timeVectorsOpen(bt.tenant);
    const postingsReopened = await timePostings(bt.tenant);
    progress(`  snapshot: written in ${closeS.toFixed(1)} s (${(snapshotBytes / 1e9).toFixed(2)} GB), loaded in ${snapshot.wallS.toFixed(2)} s (${snapshot.source}); build from stored vectors took ${rebuild.wallS.toFixed(1)} s; posting lists rebuilt in the background in ${postingsReopened.seconds.toFixed(2)} s`);
    const check = remEngine("rem", () => bt.tenant, ds, queries, { topK: cfg.topK });
    const afterSnapshot = (await interleave([check], Math.min(200, ds.queryCount), 10, truth.all, cfg.topK))["rem"]!;
    probes.push(cpuProbe());

    progress(`insert of 1,000 documents with local embeddings (${cfg.insertReps} times), HNSW index loaded`);
    const insert = await insert1000(bt.tenant, cfg, await bt.tenant.vectors());
    progress(`  p50 ${insert.p50.toFixed(1)} ms (HNSW apply p50 ${insert.hnswApplyP50Ms?.toFixed(1)} ms), p95 ${insert.p95.toFixed(1)} ms; ${insert.pendingGraphInsertsAfter} of ${insert.indexSizeAfter} still waiting for the graph`);
    progress("the same into a fresh tenant whose vector indexes are not loaded (no HNSW work in the write)");
    const insertNoHnsw = await insertWithoutIndex(join(tmp.path, "rem-insert"), cfg);
    progress(`  p50 ${insertNoHnsw.p50.toFixed(1)} ms, p95 ${insertNoHnsw.p95.toFixed(1)} ms`);
    probes.push(cpuProbe());

    progress("LanceDB peer");
    let lance: LanceResult | { error: string };
    const headline = search.sweep.find((s) => s.ef === search.headlineEf)!;
    try {
      lance = await lancePeer(join(tmp.path, "lance"), ds, cfg, truth, queries, {
        unfiltered: remEngine("rem", () => bt.tenant, ds, queries, { topK: cfg.topK, ef: search.headlineEf === cfg.hnsw.efSearch ? undefined : search.headlineEf }),
        unfilteredRecall: headline.rem.recall,
        filtered: remEngine("rem", () => bt.tenant, ds, queries, { topK: cfg.topK, where: search.filtered.where }),
        filteredRecall: search.filtered.rem.recall,
      });
    } catch (err) {
      progress(`  LanceDB failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      lance = { error: err instanceof Error ? err.message : String(err) };
    }
    rss["afterLance"] = rssMb();
    probes.push(cpuProbe());

    const { targets, failed } = summarizeTargets({ cfg, search, snapshot, embedder, insert, lance, recallTarget: RECALL_TARGET });
    progress(`targets (${cfg.n} vectors): ${Object.keys(targets).length - failed.length}/${Object.keys(targets).length} met${failed.length > 0 ? `; missed: ${failed.join(", ")}` : ""}`);
    return {
      suite: "vector",
      mode: cfg.mode,
      vectors: cfg.n,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? "unknown",
        memGB: Math.round(totalmem() / 1e9),
        node: process.version,
        loadAvg1mBefore: loadBefore,
        loadAvg1mAfter: loadavg()[0],
        cpuProbeMBPerS: probes,
        rssMb: rss,
      },
      config: cfg,
      targets,
      allTargetsMet: failed.length === 0,
      setup: { datasetS, groundTruthS: truthS },
      hnswlib: { buildS: rawBuildS },
      rem: {
        load,
        buildFromStoredVectors: rebuild,
        snapshot: { writeS: closeS, bytes: snapshotBytes, reopenTenantS: reopenS, open: snapshot, recallAfterOpen: afterSnapshot.recall },
        postings: { afterBuild: postingsBuilt, afterReopen: postingsReopened },
        headlineEf: search.headlineEf,
        sweep: search.sweep,
        filtered: search.filtered,
        breakdown,
        remVsRawAtDefaultEf: ratio(search.sweep.find((s) => s.ef === cfg.hnsw.efSearch)?.rem.latency.p50 ?? Number.NaN, search.sweep.find((s) => s.ef === cfg.hnsw.efSearch)?.raw.latency.p50 ?? Number.NaN),
      },
      embedder,
      insert1000: { hnswLoaded: insert, hnswNotLoaded: insertNoHnsw },
      lancedb: lance,
    };
  },
};
