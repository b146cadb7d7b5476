import { cpus, loadavg } from "node:os";
import { atLeast, atMost, progress, ratio, type Target } from "../lib/report.js";
import { median } from "../lib/stats.js";
import type { Suite } from "../lib/suite.js";
import { startNatsEnv } from "../log/nats-env.js";
import { catchUpBench, type CatchUpSample } from "./catch-up.js";
import { replicationBenchConfig } from "./config.js";
import { lagBench } from "./lag.js";
import { measureRestore } from "./restore.js";
import { tempDir } from "../../test/support/tmp.js";

/**
 * `npm run bench -- replication [--quick]`: a replica following a primary on a
 * private nats-server. Replica lag at 1k commits/s steady (append call → applied
 * on the replica) against raw JetStream delivery of the same messages; catch-up
 * after a long disconnect against a bare ordered consumer reading the same stream.
 */
export const replicationSuite: Suite = {
  name: "replication",
  description: "replication: replica lag at 1k commits/s vs raw JetStream delivery, catch-up vs raw consume, restore from S3 vs raw download",
  async run({ quick, cleanup }) {
    const cfg = replicationBenchConfig(quick);
    const loadBefore = loadavg()[0]!;
    progress(`replication suite (${cfg.mode}): lag at ${cfg.lagRate} commits/s for ${cfg.lagSeconds} s; catch-up of ${cfg.catchUpEvents} events × ${cfg.reps}`);
    const env = await startNatsEnv(cleanup);

    progress("replica lag under steady load");
    const lag = await lagBench(env, cfg, cleanup);
    progress(`  REM p50 ${lag.rem.p50.toFixed(2)} ms p99 ${lag.rem.p99.toFixed(2)} ms | raw p50 ${lag.raw.p50.toFixed(2)} ms p99 ${lag.raw.p99.toFixed(2)} ms (${Math.round(lag.achievedRate)} commits/s achieved)`);

    progress("catch-up after a long disconnect");
    const samples: CatchUpSample[] = [];
    for (let rep = 0; rep < cfg.reps; rep++) {
      const s = await catchUpBench(env, cfg, rep, cleanup);
      progress(`  rep ${rep}: REM ${Math.round(s.rem)} events/s | raw consume ${Math.round(s.raw)} events/s | raw LevelDB of the same ${s.rows} rows ${Math.round(s.rawLevelDb)} events/s`);
      const c = s.cpuUsPerEvent;
      progress(`    µs per event: wall ${c.wall}, CPU ${c.process} (main thread ${c.mainThread ?? "?"}, other threads ${c.otherThreads ?? "?"})`);
      samples.push(s);
    }
    const catchUp = { rem: median(samples.map((s) => s.rem)), raw: median(samples.map((s) => s.raw)), rawLevelDb: median(samples.map((s) => s.rawLevelDb)) };

    progress(`restore of ${cfg.restoreEvents} events from S3 (s3rver on loopback) with projections`);
    const tmp = await tempDir("rem-bench-restore-");
    cleanup.add("restore temp dir", () => tmp.cleanup());
    const restore = await measureRestore({ dir: tmp.path, events: cfg.restoreEvents, cleanup });
    progress(`  restore ${restore.restore_seconds.toFixed(1)} s | raw download + decode ${restore.raw_seconds.toFixed(2)} s (${restore.objects} objects, ${(restore.bytes / 1e6).toFixed(0)} MB)`);

    const targets: Record<string, Target> = {
      "lag.p50Ms": atMost(lag.rem.p50, 10, "ms"),
      "lag.p99Ms": atMost(lag.rem.p99, 50, "ms"),
      "catchUp.eventsPerS": atLeast(catchUp.rem, 100_000, "events/s"),
      // Scaled to 1M events in the quick run (restore time is linear in events).
      "restore1M.seconds": atMost((restore.restore_seconds * 1_000_000) / restore.events, 60, "s"),
    };
    const failed = Object.entries(targets).filter(([, t]) => !t.pass);
    progress(`targets: ${Object.keys(targets).length - failed.length}/${Object.keys(targets).length} met${failed.length > 0 ? `; missed: ${failed.map(([k]) => k).join(", ")}` : ""}`);
    return {
      suite: "replication",
      mode: cfg.mode,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, nats: env.serverVersion, loadAvg1mBefore: loadBefore, loadAvg1mAfter: loadavg()[0] },
      config: cfg,
      lag: { ...lag, ratioP50VsRaw: ratio(lag.rem.p50, lag.raw.p50), ratioP99VsRaw: ratio(lag.rem.p99, lag.raw.p99) },
      catchUp: { eventsPerS: catchUp, ratioVsRaw: ratio(catchUp.rem, catchUp.raw), ratioVsRawLevelDb: ratio(catchUp.rem, catchUp.rawLevelDb), samples },
      restore,
      targets,
    };
  },
};
