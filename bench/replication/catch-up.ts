import { DeliverPolicy } from "@nats-io/jetstream";
import { streamName } from "../../events/log/jetstream/stream.js";
import { tenantName } from "../../events/model/ids.js";
import { primaryNode, replicaNode } from "../../test/replica/replica-fixture.js";
import type { Cleanup } from "../lib/cleanup.js";
import { progress } from "../lib/report.js";
import { nowMs } from "../lib/timing.js";
import { inFlight } from "../lib/window.js";
import { collectRows, rawPutSeconds } from "../lib/raw-leveldb.js";
import { mainThreadCpuUs } from "../lib/thread-cpu.js";
import { tempDir } from "../../test/support/tmp.js";
import { join } from "node:path";
import type { NatsEnv } from "../log/nats-env.js";
import type { ReplicationBenchConfig } from "./config.js";
import { noteEvent } from "./workload.js";

export interface CatchUpSample {
  /** Events/s a replica applies catching up from empty (chain, signatures, decode, LevelDB projections). */
  readonly rem: number;
  /** Events/s of an ordered consumer reading the same stream's messages (bytes only). */
  readonly raw: number;
  readonly events: number;
  readonly commits: number;
  /** Rows the replica's projection store holds afterwards (records, id, key and index entries, metadata). */
  readonly rows: number;
  /**
   * Events/s if applying cost only the LevelDB writes: the same rows, read back
   * from the replica's store, put into a fresh LevelDB in batches (raw-leveldb.ts).
   */
  readonly rawLevelDb: number;
  /**
   * Where the catch-up's CPU went, µs per event: the whole process, its main
   * thread (decode, verify, apply) and the other threads (LevelDB's writes and
   * compactions, GC helpers), against wall time. On 2 cores, process/2 bounds
   * how fast it can go. mainThread is null off Linux.
   */
  readonly cpuUsPerEvent: { readonly wall: number; readonly process: number; readonly mainThread: number | null; readonly otherThreads: number | null };
}

/**
 * Catch-up after a long disconnect: the primary writes `catchUpEvents` while no
 * replica runs; then a replica starts from an empty data dir and catches up
 * with the head. Baselines: a bare ordered consumer reading the same stream,
 * and raw LevelDB writing the rows the replica ended up with.
 */
export async function catchUpBench(env: NatsEnv, cfg: ReplicationBenchConfig, rep: number, cleanup: Cleanup): Promise<CatchUpSample> {
  const name = `catchup${rep}`;
  const primary = await primaryNode(env.url, name);
  const done = cleanup.add(`${name} primary`, () => primary.close());
  const log = primary.tenant.log;
  const commits = Math.ceil(cfg.catchUpEvents / cfg.catchUpBatch);
  progress(`  writing ${cfg.catchUpEvents} events in ${commits} commits while no replica runs`);
  await inFlight(commits, 16, async (c) => {
    const events = [];
    for (let k = 0; k < cfg.catchUpBatch; k++) events.push(noteEvent(c * cfg.catchUpBatch + k));
    await log.append(events);
  });
  const head = (await log.head()).seq;

  const replica = await replicaNode(env.url, primary.publicKey, name);
  const doneReplica = cleanup.add(`${name} replica`, () => replica.close());
  const r = await replica.open();
  const main0 = mainThreadCpuUs();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const res = await r.sync(head);
  const remS = (nowMs() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuUs();
  const processUs = (cpu.user + cpu.system) / res.events;
  const mainUs = main0 === null || main1 === null ? null : (main1 - main0) / res.events;
  if (r.store.checkpoint?.seq !== head) throw new Error(`replica stopped at ${r.store.checkpoint?.seq}, head ${head}`);
  const rows = await collectRows(r.store.db);
  await doneReplica();
  const tmp = await tempDir("rem-bench-raw-ldb-");
  let rawLevelDbS: number;
  try {
    rawLevelDbS = await rawPutSeconds(join(tmp.path, "db"), rows);
  } finally {
    await tmp.cleanup();
  }

  const consumer = await env.js.consumers.get(streamName(tenantName(name)), { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
  const t1 = nowMs();
  const messages = await consumer.consume({ max_messages: 512 });
  let n = 0;
  for await (const _m of messages) if (++n >= head) break;
  messages.stop();
  const rawS = (nowMs() - t1) / 1000;
  await consumer.delete().catch(() => undefined);
  await done();
  const round = (x: number): number => Number(x.toFixed(1));
  return {
    rem: res.events / remS,
    raw: res.events / rawS,
    events: res.events,
    commits: res.commits,
    rows: rows.length,
    rawLevelDb: res.events / rawLevelDbS,
    cpuUsPerEvent: { wall: round((remS * 1e6) / res.events), process: round(processUs), mainThread: mainUs === null ? null : round(mainUs), otherThreads: mainUs === null ? null : round(processUs - mainUs) },
  };
}
