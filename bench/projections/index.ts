import { cpus, loadavg } from "node:os";
import { tempDir } from "../../test/support/tmp.js";
import { BLAKE3_IMPL } from "../../events/hash.js";
import { atLeast, atMost, progress, ratio, type Target } from "../lib/report.js";
import type { Suite } from "../lib/suite.js";
import { projectionBenchConfig } from "./config.js";
import { insertLatency, queryLatencies, rawLevelDbRate, readLatencies, rebuildRate, traverseLatency } from "./measure.js";
import { setupTenant } from "./setup.js";

/**
 * `npm run bench -- projections [--quick]`: the LevelDB projections at 1M
 * entities with 3 indexed fields (quick: 100k): rebuild from the log against raw
 * LevelDB puts of the same rows, point reads, an indexed query, a 3-hop
 * traversal and a durable 1000-document insert through the whole write path.
 */
export const projectionsSuite: Suite = {
  name: "projections",
  description: "LevelDB projections: rebuild vs raw LevelDB, get, lookup, indexed SQL, traversal, batch insert",
  async run({ quick, cleanup }) {
    const cfg = projectionBenchConfig(quick);
    const loadBefore = loadavg()[0]!;
    const tmp = await tempDir("rem-bench-proj-");
    cleanup.add("projections temp dir", () => tmp.cleanup());
    progress(`projections suite (${cfg.mode}): ${cfg.entities} entities, 3 indexed fields`);
    const tenant = await setupTenant(tmp.path, cfg);
    cleanup.add("bench tenant", () => tenant.close());

    progress("rebuild from the log");
    const rebuild = await rebuildRate(tenant, tmp.path, cfg);
    progress("raw LevelDB batched puts of the same rows (public batch API, then the binding's put hook)");
    const rawPublic = await rawLevelDbRate(tmp.path, cfg, "public");
    const raw = await rawLevelDbRate(tmp.path, cfg, "hook");
    progress("get / lookup");
    const reads = await readLatencies(tenant, cfg);
    progress("queries");
    const queries = await queryLatencies(tenant, cfg);
    progress("traversal");
    const trav = await traverseLatency(tenant, cfg);
    progress("batch insert of 1000 docs");
    const insert = await insertLatency(tenant, cfg);

    // The target's baseline is LevelDB's fastest write path (the hook the runner itself uses).
    const rebuildVsRaw = ratio(rebuild.median, raw.median);
    const targets: Record<string, Target> = {
      "rebuild.eventsPerS": atLeast(rebuild.median, 100_000, "events/s"),
      "rebuild.vsRawLevelDb": atLeast(rebuildVsRaw, 0.5, "x"),
      "get.p50Us": atMost(reads.get.p50 * 1000, 50, "µs"),
      "lookup.p50Us": atMost(reads.lookup.p50 * 1000, 100, "µs"),
      "query.indexedEq.p50Ms": atMost(queries.indexedEq.p50, 2, "ms"),
      "query.indexedEq.usesIndex": { value: queries.indexedEqPlan.access === "index_eq" ? 1 : 0, target: 1, pass: queries.indexedEqPlan.access === "index_eq", unit: "bool" },
      "query.scanFallbackReported": { value: queries.scanPlan.access === "scan" ? 1 : 0, target: 1, pass: queries.scanPlan.access === "scan", unit: "bool" },
      "traverse3Hop.p50Ms": atMost(trav.latency.p50, 5, "ms"),
      "insert1000.p50Ms": atMost(insert.p50, 50, "ms"),
    };
    const failed = Object.entries(targets).filter(([, t]) => !t.pass);
    progress(`targets: ${Object.keys(targets).length - failed.length}/${Object.keys(targets).length} met${failed.length > 0 ? `; missed: ${failed.map(([k]) => k).join(", ")}` : ""}`);
    return {
      suite: "projections",
      mode: cfg.mode,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, blake3: BLAKE3_IMPL, loadAvg1mBefore: loadBefore, loadAvg1mAfter: loadavg()[0] },
      config: cfg,
      targets,
      allTargetsMet: failed.length === 0,
      rebuild: { rem: rebuild, rawLevelDbRowsPerS: raw, rawLevelDbPublicApiRowsPerS: rawPublic, ratio: rebuildVsRaw, ratioVsPublicApi: ratio(rebuild.median, rawPublic.median) },
      get: reads.get,
      lookup: reads.lookup,
      query: { indexedEqLimit100: queries.indexedEq, indexedEqPlan: queries.indexedEqPlan, scanLimit100: queries.scanLimit, scanPlan: queries.scanPlan },
      traverse3Hop: { ...trav.latency, nodes: trav.nodes, coldMs: trav.coldMs },
      insert1000Durable: insert,
    };
  },
};
