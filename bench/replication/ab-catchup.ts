import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Fixture from "../../test/replica/replica-fixture.js";
import type * as NatsServer from "../../test/support/nats-server.js";
import type * as Workload from "./workload.js";
import { median } from "../lib/stats.js";
import { mainThreadCpuUs } from "../lib/thread-cpu.js";
import { inFlight } from "../lib/window.js";

/**
 * A/B of two builds' replica catch-up on a machine too noisy for the suite to
 * show a change: both builds are loaded into one process and alternate (A B,
 * B A, …), each catching a fresh replica up with `events` events in commits of
 * 100 from a private nats-server. Reports events/s and main-thread CPU per
 * event (from /proc: the apply path runs there), medians per build, after one
 * unmeasured warm-up round.
 *
 *   node dist/bench/replication/ab-catchup.js <distA> <distB> [events=100000] [reps=4]
 *
 * <distX> is the root of a build (a checkout's `dist`, or a copy of it inside the checkout).
 */

interface Build {
  readonly fixture: typeof Fixture;
  readonly workload: typeof Workload;
}

async function load(root: string): Promise<Build> {
  const at = (path: string): string => pathToFileURL(resolve(root, path)).href;
  return {
    fixture: (await import(at("test/replica/replica-fixture.js"))) as typeof Fixture,
    workload: (await import(at("bench/replication/workload.js"))) as typeof Workload,
  };
}

async function catchUp(b: Build, natsUrl: string, name: string, events: number): Promise<{ eventsPerS: number; mainUsPerEvent: number }> {
  const primary = await b.fixture.primaryNode(natsUrl, name);
  try {
    await inFlight(Math.ceil(events / 100), 16, async (c) => {
      const batch = Array.from({ length: 100 }, (_, k) => b.workload.noteEvent(c * 100 + k));
      await primary.tenant.log.append(batch);
    });
    const head = (await primary.tenant.log.head()).seq;
    const replica = await b.fixture.replicaNode(natsUrl, primary.publicKey, name);
    try {
      const r = await replica.open();
      const cpu0 = mainThreadCpuUs() ?? NaN; // Linux only
      const t0 = performance.now();
      const res = await r.sync(head);
      const seconds = (performance.now() - t0) / 1000;
      return { eventsPerS: res.events / seconds, mainUsPerEvent: ((mainThreadCpuUs() ?? NaN) - cpu0) / res.events };
    } finally {
      await replica.close();
    }
  } finally {
    await primary.close();
  }
}

async function main(): Promise<void> {
  const [rootA, rootB, eventsArg, repsArg] = process.argv.slice(2);
  if (rootA === undefined || rootB === undefined) throw new Error("usage: ab-catchup.js <distA> <distB> [events] [reps]");
  const events = Number(eventsArg ?? 100_000);
  const reps = Number(repsArg ?? 4);
  const builds = { A: await load(rootA), B: await load(rootB) };
  const { startNatsServer } = (await import(pathToFileURL(resolve(rootA, "test/support/nats-server.js")).href)) as typeof NatsServer;
  const nats = await startNatsServer();
  const out = { A: [] as { eventsPerS: number; mainUsPerEvent: number }[], B: [] as { eventsPerS: number; mainUsPerEvent: number }[] };
  try {
    // One unmeasured round first: the first catch-up in a process runs cold (JIT, caches) and would count against A.
    for (const k of ["A", "B"] as const) await catchUp(builds[k], nats.url, `warm${k.toLowerCase()}`, Math.max(1_000, Math.round(events / 5)));
    for (let r = 0; r < reps; r++) {
      for (const k of r % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
        const s = await catchUp(builds[k], nats.url, `ab${k.toLowerCase()}${r}`, events);
        out[k].push(s);
        process.stderr.write(`${k}: ${Math.round(s.eventsPerS)} events/s, ${s.mainUsPerEvent.toFixed(1)} µs main-thread CPU per event\n`);
      }
    }
  } finally {
    await nats.cleanup();
  }
  const m = (k: "A" | "B") => ({ eventsPerS: Math.round(median(out[k].map((s) => s.eventsPerS))), mainUsPerEvent: Number(median(out[k].map((s) => s.mainUsPerEvent)).toFixed(2)) });
  const [a, b] = [m("A"), m("B")];
  console.log(JSON.stringify({ A: a, B: b, mainCpuBOverA: Number((b.mainUsPerEvent / a.mainUsPerEvent).toFixed(3)) }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
