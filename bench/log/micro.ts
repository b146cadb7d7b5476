import { decodeEvents, encodeEvents } from "../../events/codec/events-codec.js";
import { signatureMessage } from "../../events/commit-builder.js";
import { randomNonce, seal } from "../../events/encryption.js";
import { blake3 } from "../../events/hash.js";
import { validateEvent, validateForEncoding } from "../../events/model/validate.js";
import { progress, formatRate } from "../lib/report.js";
import { loopFor, repeatRate, type Rate, type RunSample } from "../lib/timing.js";
import type { LogBenchConfig } from "./config.js";
import type { BenchKeys } from "./keys.js";
import type { Workload } from "./workload.js";

export interface MicroResults {
  readonly ed25519SignPerS: Rate;
  readonly ed25519VerifyPerS: Rate;
  /** Over one ~50 KB commit, as append and read hash it. */
  readonly blake3MBPerS: Rate;
  /** ChaCha20-Poly1305 seal of one commit payload, as encrypted appends do. */
  readonly chacha20Poly1305MBPerS: Rate;
  /** validateEvent: zod schema + canonical copy (the CLI/HTTP input path, and appends of non-canonical events). */
  readonly validateEventsPerS: Rate;
  /** validateForEncoding: what an append runs; canonical events take the fast check (no zod walk, no copy). */
  readonly appendValidateEventsPerS: Rate;
  readonly encodeEventsPerS: Rate;
  readonly decodeEventsPerS: Rate;
}

/**
 * Figure 8: the single-threaded building blocks of append and read, to explain
 * the end-to-end figures (what one commit of 100 events costs in each step).
 */
export async function microBench(cfg: LogBenchConfig, work: Workload, keys: BenchKeys): Promise<MicroResults> {
  const batch = work.batches[0]!;
  const valid = batch.map((e) => validateEvent(e));
  const payload = encodeEvents(valid);
  const commit = work.rawCommits[0]!;
  const hash = blake3(commit);
  const message = signatureMessage(hash);
  const signature = keys.signer.sign(message);
  const verifyKey = keys.trusted.get(keys.signer.keyId)!;
  const nonce = randomNonce();
  const aad = commit.subarray(0, 120);
  const mb = (bytes: number): number => bytes / 1e6;

  const measure = async (name: string, unit: string, sample: () => RunSample): Promise<Rate> => {
    const r = await repeatRate(cfg.reps, async () => sample(), unit);
    progress(`micro ${name}: ${formatRate(r.median)} ${unit}`);
    return r;
  };
  let sink = 0; // keeps results alive so the work cannot be optimised away

  const out: MicroResults = {
    ed25519SignPerS: await measure("ed25519 sign", "ops/s", () => loopFor(cfg.microMs, 1, () => (sink += keys.signer.sign(message).length))),
    ed25519VerifyPerS: await measure("ed25519 verify", "ops/s", () => loopFor(cfg.microMs, 1, () => (sink += verifyKey.verify(message, signature) ? 1 : 0))),
    blake3MBPerS: await measure("blake3", "MB/s", () => loopFor(cfg.microMs, mb(commit.length), () => (sink += blake3(commit)[0]!))),
    chacha20Poly1305MBPerS: await measure("chacha20-poly1305 seal", "MB/s", () => loopFor(cfg.microMs, mb(payload.length), () => (sink += seal(keys.dataKey.key, nonce, payload, aad).length))),
    validateEventsPerS: await measure("validate", "events/s", () => loopFor(cfg.microMs, batch.length, () => (sink += batch.map((e) => validateEvent(e)).length))),
    appendValidateEventsPerS: await measure("append validate", "events/s", () => loopFor(cfg.microMs, batch.length, () => (sink += validateForEncoding(batch).length))),
    encodeEventsPerS: await measure("encode", "events/s", () => loopFor(cfg.microMs, valid.length, () => (sink += encodeEvents(valid).length))),
    decodeEventsPerS: await measure("decode", "events/s", () => loopFor(cfg.microMs, valid.length, () => (sink += decodeEvents(payload).length))),
  };
  if (sink === 0) progress("micro: nothing computed?");
  return out;
}
