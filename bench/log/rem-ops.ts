import type { SignatureMode } from "../../events/chain-verifier.js";
import type { TenantLog } from "../../events/log/tenant-log.js";
import type { Seq } from "../../events/model/ids.js";
import { measure, nowMs, type RunSample } from "../lib/timing.js";
import { inFlight } from "../lib/window.js";
import type { LogBenchConfig } from "./config.js";
import type { Workload } from "./workload.js";

/**
 * The two REM operations every backend is measured with, so both backends run
 * exactly the same client code.
 */

/** Appends every batch of the workload as one commit, `cfg.inFlight` concurrent append calls (TenantLog pipelines them). */
export async function appendAll(log: TenantLog, work: Workload, cfg: LogBenchConfig, latenciesMs: number[]): Promise<RunSample> {
  let events = 0;
  const sample = await measure(
    () => events,
    () =>
      inFlight(work.batches.length, cfg.inFlight, async (i) => {
        const start = nowMs();
        const r = await log.append(work.batches[i]!);
        latenciesMs.push(nowMs() - start);
        if (r.duplicate) throw new Error(`commit ${i} was taken for a duplicate of commit ${r.seq}`);
        events += r.count;
      }),
  );
  const head = await log.head();
  if (head.seq !== work.batches.length) throw new Error(`expected ${work.batches.length} commits after the append run, the log holds ${head.seq}`);
  return sample;
}

/** Reads the whole log from 1: verify (chain, signatures per `mode`), decrypt when encrypted, decode every event. */
export async function readAll(log: TenantLog, mode: SignatureMode, expectedEvents: number): Promise<RunSample> {
  let events = 0;
  const sample = await measure(
    () => events,
    async () => {
      for await (const batch of log.read(1 as Seq, { signatures: mode })) {
        for (const c of batch) events += log.events(c).length;
      }
    },
  );
  if (events !== expectedEvents) throw new Error(`read ${events} events, expected ${expectedEvents}`);
  return sample;
}
