import { DeliverPolicy } from "@nats-io/jetstream";
import { commitSubject, DEFAULT_DUPLICATE_WINDOW_MS, streamConfig, streamName } from "../../events/log/jetstream/stream.js";
import { DEFAULT_MAX_COMMIT_BYTES } from "../../events/log/types.js";
import { tenantName } from "../../events/model/ids.js";
import { Worker } from "node:worker_threads";
import { Follower } from "../../replay/replica/follower.js";
import { eventually, replicaNode } from "../../test/replica/replica-fixture.js";
import type { LagWriterCommand, LagWriterInput, LagWriterReply } from "./lag-writer.js";
import type { Cleanup } from "../lib/cleanup.js";
import type { NatsEnv } from "../log/nats-env.js";
import { progress } from "../lib/report.js";
import { latencies, percentile, type LatencySummary } from "../lib/stats.js";
import { hrtimeMs, nowMs } from "../lib/timing.js";
import type { ReplicationBenchConfig } from "./config.js";
import { paced } from "./pace.js";

export interface LagResults {
  /** Append call on the primary → commit applied to the replica's projections (ms). */
  readonly rem: LatencySummary & { readonly p99: number };
  /** Publish call → delivery to an ordered consumer, same rate and message sizes (ms). */
  readonly raw: LatencySummary & { readonly p99: number };
  readonly commits: number;
  readonly achievedRate: number;
  readonly commitBytes: number;
  /** REM's p99 in each second of the run: shows whether the tail is spread out or a few stalls. */
  readonly remP99BySecond: number[];
  /** Lag during the unmeasured warm-up at the same rate (a fresh replica's start-up transient). */
  readonly warmUp: LatencySummary & { readonly p99: number; readonly seconds: number };
}

/** Seconds of load at the measured rate before measuring: the start-up transient lasts ~1–2 s on a slow host. */
const WARM_UP_SECONDS = 3;

function withP99(samples: number[]): LatencySummary & { p99: number } {
  return { ...latencies(samples), p99: percentile(samples, 99) };
}

/**
 * Replica lag under a steady open-loop load: the primary, in a worker thread
 * (lag-writer.ts: a node of its own, off the replica's event loop), appends
 * one-event commits at `lagRate`/s through its TenantLog while a replica (its
 * own data dir, keystore and NATS connection) follows; every commit's delay is measured
 * from the append call to the moment the replica's projection batch holding it
 * is written, after a warm-up at the same rate (steady state: the issue's
 * "1k commits/s steady"). The baseline publishes messages of the same size at the same rate
 * to a stream with REM's configuration and times their delivery to an ordered
 * consumer: what JetStream alone costs.
 */
export async function lagBench(env: NatsEnv, cfg: ReplicationBenchConfig, cleanup: Cleanup): Promise<LagResults> {
  const writer = await startWriter({ natsUrl: env.url, name: "lag", rate: cfg.lagRate });
  cleanup.add("lag primary", () => writer.close());
  const replica = await replicaNode(env.url, writer.publicKey, "lag");
  cleanup.add("lag replica", () => replica.close());
  const r = await replica.open();
  const appliedAt = new Map<number, number>();
  let prev = r.store.checkpoint?.seq ?? 0;
  const follower = new Follower(r, {
    source: env.url,
    onBatch: (b) => {
      const t = hrtimeMs();
      for (let s = prev + 1; s <= b.seq; s++) appliedAt.set(s, t);
      prev = b.seq;
    },
  }).start();
  const delays = async (ran: Ran): Promise<number[]> => {
    await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s >= ran.head, 120_000);
    return ran.sent.map(([seq, t]) => {
      const a = appliedAt.get(seq);
      if (a === undefined) throw new Error(`commit ${seq}: no apply time`);
      return a - t;
    });
  };
  // Warm up both sides (consumer creation, JIT) at the measured rate, then let the
  // replica reach the head so no backlog carries over: while its JIT warms up a
  // fresh replica lags more (p99 ~40–70 ms on a slow host; reported, not a target).
  const warmDelays = await delays(await writer.run(WARM_UP_SECONDS, 0));
  progress(`  REM: ${cfg.lagRate} commits/s for ${cfg.lagSeconds} s, replica following`);
  const load = await writer.run(cfg.lagSeconds, 1_000_000); // past the warm-up's notes: every natural key new
  const remDelays = await delays(load);
  await follower.stop();
  const commitBytes = load.commitBytes;

  progress(`  raw JetStream: ${cfg.lagRate} msgs/s of ${commitBytes} bytes, ordered consumer`);
  const raw = tenantName("rawlag");
  const config = streamConfig({ tenant: raw, replicas: 1, duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS, maxCommitBytes: DEFAULT_MAX_COMMIT_BYTES, create: true });
  await env.jsm.streams.add(config);
  env.streams.add(config.name);
  const consumer = await env.js.consumers.get(streamName(raw), { deliver_policy: DeliverPolicy.New });
  const messages = await consumer.consume({ max_messages: 512 });
  const rawSent = new Map<number, number>();
  const rawRecv = new Map<number, number>();
  const total = Math.round(cfg.lagRate * cfg.lagSeconds) + 200;
  const receiving = (async () => {
    for await (const m of messages) {
      rawRecv.set(new DataView(m.data.buffer, m.data.byteOffset).getUint32(0), nowMs());
      if (rawRecv.size >= total) break;
    }
  })();
  const subject = commitSubject(raw);
  const payload = (i: number): Uint8Array => {
    const b = new Uint8Array(Math.max(8, commitBytes));
    new DataView(b.buffer).setUint32(0, i);
    return b;
  };
  for (let i = 0; i < 200; i++) {
    rawSent.set(i, nowMs());
    await env.js.publish(subject, payload(i));
  }
  await paced(cfg.lagRate, cfg.lagSeconds, async (i) => {
    rawSent.set(200 + i, nowMs());
    await env.js.publish(subject, payload(200 + i));
  });
  await receiving;
  messages.stop();
  const rawDelays: number[] = [];
  for (let i = 200; i < total; i++) rawDelays.push(rawRecv.get(i)! - rawSent.get(i)!);
  const remP99BySecond: number[] = [];
  for (let i = 0; i < remDelays.length; i += cfg.lagRate) remP99BySecond.push(withP99(remDelays.slice(i, i + cfg.lagRate)).p99);
  return { rem: withP99(remDelays), raw: withP99(rawDelays), commits: remDelays.length, achievedRate: load.issued / load.seconds, commitBytes, remP99BySecond, warmUp: { seconds: WARM_UP_SECONDS, ...withP99(warmDelays) } };
}

type Ran = Extract<LagWriterReply, { op: "ran" }>;

interface Writer {
  readonly publicKey: Uint8Array;
  /** One paced phase of `seconds` at the configured rate, notes numbered from `from`. */
  run(seconds: number, from: number): Promise<Ran>;
  close(): Promise<void>;
}

/** Starts the primary in its worker thread (lag-writer.ts) and waits until it is ready. */
async function startWriter(input: LagWriterInput): Promise<Writer> {
  const worker = new Worker(new URL("./lag-writer.js", import.meta.url), { workerData: input });
  let waiting: { resolve: (m: LagWriterReply) => void; reject: (e: Error) => void } | null = null;
  const next = (): Promise<LagWriterReply> => new Promise((resolve, reject) => (waiting = { resolve, reject }));
  worker.on("message", (m: LagWriterReply) => {
    const w = waiting;
    waiting = null;
    if (m.op === "error") w?.reject(new Error(`lag writer: ${m.message}`));
    else w?.resolve(m);
  });
  worker.on("error", (err) => waiting?.reject(err));
  worker.on("exit", (code) => waiting?.reject(new Error(`lag writer exited (${code})`)));
  const ready = await next();
  if (ready.op !== "ready") throw new Error(`lag writer: expected ready, got ${ready.op}`);
  let closed = false;
  return {
    publicKey: ready.publicKey,
    async run(seconds, from) {
      const reply = next();
      worker.postMessage({ op: "run", seconds, from } satisfies LagWriterCommand);
      const m = await reply;
      if (m.op !== "ran") throw new Error(`lag writer: expected ran, got ${m.op}`);
      return m;
    },
    async close() {
      if (closed) return;
      closed = true;
      const reply = next();
      worker.postMessage({ op: "close" } satisfies LagWriterCommand);
      await reply.catch(() => undefined);
      await worker.terminate();
    },
  };
}
