import { DeliverPolicy } from "@nats-io/jetstream";
import { commitSubject, DEFAULT_DUPLICATE_WINDOW_MS, streamConfig, streamName } from "../../events/log/jetstream/stream.js";
import { DEFAULT_MAX_COMMIT_BYTES } from "../../events/log/types.js";
import { tenantName, type Seq } from "../../events/model/ids.js";
import { Follower } from "../../replay/replica/follower.js";
import { eventually, primaryNode, replicaNode } from "../../test/replica/replica-fixture.js";
import type { Cleanup } from "../lib/cleanup.js";
import type { NatsEnv } from "../log/nats-env.js";
import { progress } from "../lib/report.js";
import { latencies, percentile, type LatencySummary } from "../lib/stats.js";
import { nowMs } from "../lib/timing.js";
import type { ReplicationBenchConfig } from "./config.js";
import { paced } from "./pace.js";
import { noteEvent } from "./workload.js";

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

/** Seconds of load at the measured rate before measuring: the start-up transient lasts ~2 s on a slow host. */
const WARM_UP_SECONDS = 3;

function withP99(samples: number[]): LatencySummary & { p99: number } {
  return { ...latencies(samples), p99: percentile(samples, 99) };
}

/**
 * Replica lag under a steady open-loop load: the primary appends one-event
 * commits at `lagRate`/s through its TenantLog while a replica (its own data
 * dir, keystore and NATS connection) follows; every commit's delay is measured
 * from the append call to the moment the replica's projection batch holding it
 * is written, after a warm-up at the same rate (steady state: the issue's
 * "1k commits/s steady"). The baseline publishes messages of the same size at the same rate
 * to a stream with REM's configuration and times their delivery to an ordered
 * consumer: what JetStream alone costs.
 */
export async function lagBench(env: NatsEnv, cfg: ReplicationBenchConfig, cleanup: Cleanup): Promise<LagResults> {
  const primary = await primaryNode(env.url, "lag");
  cleanup.add("lag primary", () => primary.close());
  const replica = await replicaNode(env.url, primary.publicKey, "lag");
  cleanup.add("lag replica", () => replica.close());
  const r = await replica.open();
  const sentAt = new Map<number, number>();
  const appliedAt = new Map<number, number>();
  let prev = r.store.checkpoint?.seq ?? 0;
  const follower = new Follower(r, {
    source: env.url,
    onBatch: (b) => {
      const t = nowMs();
      for (let s = prev + 1; s <= b.seq; s++) appliedAt.set(s, t);
      prev = b.seq;
    },
  }).start();
  const log = primary.tenant.log;
  // Warm up both sides (consumer creation, JIT) at the measured rate, then let the
  // replica reach the head so no backlog carries over: on a slow host a fresh
  // replica lags ~0.1–0.3 s through its first ~2,000 commits (reported, not a target).
  const warmSent = new Map<number, number>();
  await paced(cfg.lagRate, WARM_UP_SECONDS, async (i) => {
    const t0 = nowMs();
    warmSent.set((await log.append([noteEvent(i)])).seq, t0);
  });
  const warmHead = (await log.head()).seq;
  await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s >= warmHead, 120_000);
  const warmDelays = [...warmSent].map(([seq, t]) => appliedAt.get(seq)! - t);
  let commitBytes = 0;
  const firstMeasured = warmHead + 1;
  progress(`  REM: ${cfg.lagRate} commits/s for ${cfg.lagSeconds} s, replica following`);
  const load = await paced(cfg.lagRate, cfg.lagSeconds, async (i) => {
    const t0 = nowMs();
    const a = await log.append([noteEvent(1_000_000 + i)]); // past the warm-up's notes: every natural key new
    sentAt.set(a.seq, t0);
  });
  const head = (await log.head()).seq;
  await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s >= head, 120_000);
  await follower.stop();
  const remDelays: number[] = [];
  for (let s = firstMeasured; s <= head; s++) {
    const a = appliedAt.get(s);
    const t = sentAt.get(s);
    if (a === undefined || t === undefined) throw new Error(`commit ${s}: no ${a === undefined ? "apply" : "send"} time`);
    remDelays.push(a - t);
  }
  for await (const batch of log.backend.read(head as Seq, { until: head as Seq })) commitBytes = batch[0]?.bytes.length ?? 0;

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
