import { cpus, loadavg } from "node:os";
import { tenantName } from "../../events/model/ids.js";
import { tempDir } from "../../test/support/tmp.js";
import { cpuProbe } from "../lib/cpu-probe.js";
import { progress } from "../lib/report.js";
import type { Suite } from "../lib/suite.js";
import { logBenchConfig } from "./config.js";
import { emmettBench } from "./emmett.js";
import { fileBench } from "./file.js";
import { jetstreamBench } from "./jetstream.js";
import { benchKeys } from "./keys.js";
import { microBench } from "./micro.js";
import { startNatsEnv } from "./nats-env.js";
import { summarizeTargets } from "./targets.js";
import { cpuCost } from "./cpu-cost.js";
import { makeWorkload } from "./workload.js";

/**
 * `npm run bench -- log [--quick]`: REM's commit log on both backends against
 * raw baselines (the same bytes through plain JetStream / plain fs calls) and
 * against Emmett on PostgreSQL, all in one run on one machine.
 */
export const logSuite: Suite = {
  name: "log",
  description: "event log: JetStream and file backends vs raw baselines and Emmett on PostgreSQL",
  async run({ quick, cleanup }) {
    const cfg = logBenchConfig(quick);
    // Other work on the machine skews every figure: the 1-minute load average before and after tells.
    const loadBefore = loadavg()[0]!;
    const probes: number[] = [cpuProbe()];
    const keys = benchKeys();
    progress(`log suite (${cfg.mode}): ${cfg.events} events per figure in commits of ${cfg.batch}, ${cfg.inFlight} in flight, ${cfg.reps} repetitions`);
    const work = makeWorkload(cfg.events, cfg.batch, tenantName("bench"), keys.signer);
    progress(`workload ready: ${work.rawCommits.length} commits, ${(work.rawBytes / work.rawCommits.length / 1024).toFixed(1)} KiB each`);

    const micro = await microBench(cfg, work, keys);
    probes.push(cpuProbe());

    const env = await startNatsEnv(cleanup);
    const jetstream = await jetstreamBench(env, cfg, work, keys);
    probes.push(cpuProbe());

    const tmp = await tempDir("rem-bench-log-");
    cleanup.add("file log temp dir", () => tmp.cleanup());
    const file = await fileBench(tmp.path, cfg, work, keys);
    probes.push(cpuProbe());

    const emmett = await emmettBench(cfg, work, cleanup);
    probes.push(cpuProbe());

    const { ratios, targets } = summarizeTargets(jetstream, file, emmett);
    const failed = Object.entries(targets).filter(([, t]) => !t.pass);
    progress(`targets: ${Object.keys(targets).length - failed.length}/${Object.keys(targets).length} met${failed.length > 0 ? `; missed: ${failed.map(([k]) => k).join(", ")}` : ""}`);

    return {
      suite: "log",
      mode: cfg.mode,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? "unknown",
        node: process.version,
        natsServer: env.serverVersion,
        postgres: "error" in emmett ? null : emmett.postgres,
        loadAvg1mBefore: loadBefore,
        loadAvg1mAfter: loadavg()[0]!,
        /** BLAKE3 MB/s of a fixed loop at the start, between sections and at the end: the machine's own steadiness. */
        cpuProbeMBPerS: probes,
      },
      config: {
        eventsPerFigure: cfg.events,
        eventsPerCommit: cfg.batch,
        inFlight: cfg.inFlight,
        repetitions: cfg.reps,
        commitBytes: Math.round(work.rawBytes / work.rawCommits.length),
      },
      targets,
      ratios,
      allTargetsMet: failed.length === 0,
      /** Where each JetStream figure's CPU went, REM's process against the nats-server (see cpu-cost.ts). */
      cpuPerEvent: {
        append: { rawPublish: cpuCost(jetstream.append.rawPublish, cpus().length), rem: cpuCost(jetstream.append.rem, cpus().length), remEncrypted: cpuCost(jetstream.append.remEncrypted, cpus().length) },
        read: { rawConsume: cpuCost(jetstream.read.rawConsume, cpus().length), remBatch: cpuCost(jetstream.read.remBatch, cpus().length), remEncryptedBatch: cpuCost(jetstream.read.remEncryptedBatch, cpus().length) },
      },
      jetstream,
      file,
      emmett,
      micro,
    };
  },
};
