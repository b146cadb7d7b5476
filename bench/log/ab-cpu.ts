import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectNats } from "../../events/log/jetstream/connect.js";
import type { FileLog } from "../../events/log/file/file-log.js";
import type { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import type { TenantLog } from "../../events/log/tenant-log.js";
import type { Event } from "../../events/model/events.js";
import { tenantName, type Seq } from "../../events/model/ids.js";
import { startNatsServer } from "../../test/support/nats-server.js";
import { entityEvent, testDataKey, testSigner } from "../../test/support/fixtures.js";
import { tempDir } from "../../test/support/tmp.js";
import { median } from "../lib/stats.js";
import { inFlight } from "../lib/window.js";
import { abSteps } from "./ab-steps.js";

/**
 * A/B of two builds of REM's log, end to end, on a machine too busy for the
 * suite to show a change: both builds' `events/` are loaded into one process
 * and run alternately (A B, B A, …), and each run reports process CPU time
 * (all threads) per commit, which the load changes far less than wall time.
 * docs/benchmarks.md "Per-commit CPU, before and after" was measured with it.
 *
 *   node dist/bench/log/ab-cpu.js <distA> <distB> <append|append-encrypted|read|file> [commits=1000] [reps=8]
 *   node dist/bench/log/ab-cpu.js <distA> <distB> steps [windows=10]
 *
 * <distX> is the root of a build (the `dist` directory of a checkout, or a copy of it).
 * `steps` times the single-threaded steps of an append and a read the same way (ab-steps.ts).
 */

interface Build {
  readonly TenantLog: typeof TenantLog;
  readonly JetStreamLog: typeof JetStreamLog;
  readonly FileLog: typeof FileLog;
}

async function load(root: string): Promise<Build> {
  const at = (path: string): string => pathToFileURL(resolve(root, path)).href;
  const [t, j, f] = await Promise.all([
    import(at("events/log/tenant-log.js")) as Promise<{ TenantLog: typeof TenantLog }>,
    import(at("events/log/jetstream/jetstream-log.js")) as Promise<{ JetStreamLog: typeof JetStreamLog }>,
    import(at("events/log/file/file-log.js")) as Promise<{ FileLog: typeof FileLog }>,
  ]);
  return { TenantLog: t.TenantLog, JetStreamLog: j.JetStreamLog, FileLog: f.FileLog };
}

type Mode = "append" | "append-encrypted" | "read" | "file";

async function main(): Promise<void> {
  const [rootA, rootB, modeArg, commitsArg, repsArg] = process.argv.slice(2);
  if (rootA !== undefined && rootB !== undefined && modeArg === "steps") return abSteps(rootA, rootB, Number(commitsArg ?? 10));
  const modes: readonly Mode[] = ["append", "append-encrypted", "read", "file"];
  const mode = modes.find((m) => m === modeArg);
  if (rootA === undefined || rootB === undefined || mode === undefined) {
    throw new Error("usage: ab-cpu.js <distA> <distB> <append|append-encrypted|read|file> [commits] [reps]");
  }
  const commits = Number(commitsArg ?? 1000);
  const reps = Number(repsArg ?? 8);
  const builds = { A: await load(rootA), B: await load(rootB) };
  const { signer, trusted } = testSigner();
  const dataKey = mode === "append-encrypted" ? testDataKey() : undefined;
  const batches: Event[][] = Array.from({ length: commits }, (_, b) => Array.from({ length: 100 }, (_, i) => entityEvent(b * 100 + i)));
  const server = await startNatsServer();
  const nc: NatsConnection = await connectNats(server.url);
  const dir = await tempDir("rem-ab-");
  let n = 0;

  const append = async (b: Build): Promise<void> => {
    const tenant = tenantName(`t${n++}`);
    const backend = mode === "file" ? await b.FileLog.open({ dir: resolve(dir.path, tenant), tenant }) : await b.JetStreamLog.open({ nc, tenant, timeoutMs: 30_000 });
    const log = await b.TenantLog.open({ backend, signer, trusted, encryptWith: dataKey });
    try {
      await inFlight(batches.length, 256, async (i) => {
        await log.append(batches[i]!);
      });
    } finally {
      await log.close();
    }
  };
  const read = async (b: Build): Promise<void> => {
    const backend = await b.JetStreamLog.open({ nc, tenant: tenantName("src"), timeoutMs: 30_000, create: false });
    const log = await b.TenantLog.open({ backend, trusted });
    let events = 0;
    try {
      for await (const batch of log.read(1 as Seq)) for (const c of batch) events += log.events(c).length;
    } finally {
      await log.close();
    }
    if (events !== commits * 100) throw new Error(`read ${events} events, expected ${commits * 100}`);
  };

  const samples = { A: { cpu: [] as number[], wall: [] as number[] }, B: { cpu: [] as number[], wall: [] as number[] } };
  try {
    if (mode === "read") {
      const source = await builds.A.TenantLog.open({ backend: await builds.A.JetStreamLog.open({ nc, tenant: tenantName("src") }), signer, trusted });
      await inFlight(batches.length, 256, async (i) => {
        await source.append(batches[i]!);
      });
      await source.close();
    }
    // Round 0 is a warm-up for both; later rounds alternate which build goes first.
    for (let round = 0; round <= reps; round++) {
      for (const name of round % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await (mode === "read" ? read : append)(builds[name]);
        const wall = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (round === 0) continue;
        samples[name].wall.push((wall * 1000) / commits);
        samples[name].cpu.push((cpu.user + cpu.system) / commits);
      }
    }
  } finally {
    await nc.close();
    await server.cleanup();
    await dir.cleanup();
  }
  const line = (name: "A" | "B"): string =>
    `${mode} ${name}: ${median(samples[name].cpu).toFixed(0)} µs CPU, ${median(samples[name].wall).toFixed(0)} µs wall per 100-event commit (medians of ${reps})`;
  console.log(line("A"));
  console.log(line("B"));
  console.log(`B/A: CPU ${(median(samples.B.cpu) / median(samples.A.cpu)).toFixed(2)}, wall ${(median(samples.B.wall) / median(samples.A.wall)).toFixed(2)}`);
}

await main();
