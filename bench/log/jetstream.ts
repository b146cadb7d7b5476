import { DeliverPolicy, type Consumer } from "@nats-io/jetstream";
import { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import { commitSubject, DEFAULT_DUPLICATE_WINDOW_MS, PUBLISH_HEADER_RESERVE, streamConfig, streamName } from "../../events/log/jetstream/stream.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import { DEFAULT_MAX_COMMIT_BYTES } from "../../events/log/types.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import { latencies, type LatencySummary } from "../lib/stats.js";
import { measure, type Rate, type RunSample } from "../lib/timing.js";
import { inFlight } from "../lib/window.js";
import type { LogBenchConfig } from "./config.js";
import { interleaved, WARMUP } from "./interleave.js";
import type { BenchKeys } from "./keys.js";
import type { NatsEnv } from "./nats-env.js";
import { appendAll, readAll } from "./rem-ops.js";
import type { Workload } from "./workload.js";

export interface JetStreamResults {
  readonly append: { rawPublish: Rate; rem: Rate; remEncrypted: Rate };
  /** Time from append() call to its acknowledgement (ms), measured repetitions pooled (warm-up excluded). */
  readonly appendLatencyMs: { rem: LatencySummary; remEncrypted: LatencySummary };
  readonly read: { rawConsume: Rate; remBatch: Rate; remAll: Rate; remEncryptedBatch: Rate; remEncryptedAll: Rate };
  /** Messages per pull request of the raw consume baseline (the REM reader pulls 512). */
  readonly rawConsumePull: number;
}

/** Pull size and lifetime of the raw consumer: the same as REM's reader (reader.ts), so the ratio isolates REM's own work. */
const RAW_CONSUME_PULL = 512;
const RAW_CONSUME_EXPIRES_MS = 5_000;
const TIMEOUT_MS = 30_000;

/**
 * Figures 1-5: raw JetStream publish/consume of the bytes REM stores, against
 * REM's append and read through TenantLog on the JetStream backend. Each
 * repetition writes into a fresh stream; the streams of repetition 0 are kept
 * and read by the read figures, later ones are deleted as soon as they are measured.
 */
export async function jetstreamBench(env: NatsEnv, cfg: LogBenchConfig, work: Workload, keys: BenchKeys): Promise<JetStreamResults> {
  const latency = { rem: [] as number[], remEncrypted: [] as number[] };
  const maxCommitBytes = Math.min(DEFAULT_MAX_COMMIT_BYTES, (env.nc.info?.max_payload ?? DEFAULT_MAX_COMMIT_BYTES) - PUBLISH_HEADER_RESERVE);
  const tenant = (kind: string, rep: number): TenantName => tenantName(`${kind}${rep}`);

  const dropUnlessFirst = async (rep: number, stream: string): Promise<void> => {
    if (rep === 0) return;
    await env.jsm.streams.delete(stream);
    env.streams.delete(stream);
  };

  const rawPublish = async (rep: number): Promise<RunSample> => {
    // The same stream configuration REM creates, so only the client side differs.
    const config = streamConfig({ tenant: tenant("raw", rep), replicas: 1, duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS, maxCommitBytes, create: true });
    await env.jsm.streams.add(config);
    env.streams.add(config.name);
    const subject = commitSubject(tenant("raw", rep));
    // No msgID, no expectations: the cheapest publish JetStream offers.
    const sample = await measure(
      () => work.events,
      () =>
        inFlight(work.rawCommits.length, cfg.inFlight, async (i) => {
          await env.js.publish(subject, work.rawCommits[i]!, { timeout: TIMEOUT_MS });
        }),
    );
    await dropUnlessFirst(rep, config.name);
    return sample;
  };

  const remAppend = (encrypted: boolean) => async (rep: number): Promise<RunSample> => {
    const t = tenant(encrypted ? "enc" : "rem", rep);
    const backend = await JetStreamLog.open({ nc: env.nc, tenant: t, timeoutMs: TIMEOUT_MS });
    env.streams.add(backend.streamName);
    const log = await TenantLog.open({ backend, signer: keys.signer, trusted: keys.trusted, encryptWith: encrypted ? keys.dataKey : undefined });
    try {
      // Latencies of the warm-up run are not kept.
      return await appendAll(log, work, cfg, rep === WARMUP ? [] : encrypted ? latency.remEncrypted : latency.rem);
    } finally {
      await log.close();
      await dropUnlessFirst(rep, backend.streamName);
    }
  };

  const append = await interleaved("jetstream append", cfg.reps, {
    rawPublish,
    rem: remAppend(false),
    remEncrypted: remAppend(true),
  });

  const rawConsume = async (): Promise<RunSample> => {
    const commits = work.rawCommits.length;
    let count = 0;
    let bytes = 0;
    let consumer: Consumer | undefined;
    const sample = await measure(
      () => count * cfg.batch,
      async () => {
        // An ordered consumer, as REM's reader uses; creating it is timed on both sides.
        consumer = await env.js.consumers.get(streamName(tenant("raw", 0)), { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
        const messages = await consumer.consume({ max_messages: RAW_CONSUME_PULL, expires: RAW_CONSUME_EXPIRES_MS });
        for await (const m of messages) {
          bytes += m.data.length;
          if (++count >= commits) break;
        }
        messages.stop();
      },
    );
    await consumer?.delete().catch(() => undefined);
    if (bytes !== work.rawBytes) throw new Error(`raw consume read ${bytes} bytes, expected ${work.rawBytes}`);
    return sample;
  };

  const remRead = (encrypted: boolean, mode: "batch" | "all") => async (): Promise<RunSample> => {
    const t = tenant(encrypted ? "enc" : "rem", 0);
    const backend = await JetStreamLog.open({ nc: env.nc, tenant: t, create: false, timeoutMs: TIMEOUT_MS });
    const log = await TenantLog.open({ backend, trusted: keys.trusted, dataKeys: encrypted ? keys.resolver(t) : undefined });
    try {
      return await readAll(log, mode, work.events);
    } finally {
      await log.close();
    }
  };

  const read = await interleaved("jetstream read", cfg.reps, {
    rawConsume,
    remBatch: remRead(false, "batch"),
    remAll: remRead(false, "all"),
    remEncryptedBatch: remRead(true, "batch"),
    remEncryptedAll: remRead(true, "all"),
  });

  return {
    append,
    appendLatencyMs: { rem: latencies(latency.rem), remEncrypted: latencies(latency.remEncrypted) },
    read,
    rawConsumePull: RAW_CONSUME_PULL,
  };
}
