import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Chain from "../../events/chain-verifier.js";
import type * as Codec from "../../events/codec/events-codec.js";
import type * as Builder from "../../events/commit-builder.js";
import type * as Hash from "../../events/hash.js";
import type { Event } from "../../events/model/events.js";
import type { Seq } from "../../events/model/ids.js";
import type * as Validate from "../../events/model/validate.js";
import type * as Payload from "../../events/payload.js";
import { entityEvent, T, testSigner } from "../../test/support/fixtures.js";
import { median } from "../lib/stats.js";

/**
 * The `steps` mode of ab-cpu.ts: per-commit CPU of each step of an append
 * (validate, encode, commit id, build) and a read (decode; verify + decode) for
 * two builds in one process, in alternating ~120 ms windows over 20 pre-built
 * 100-event commits. Process CPU time, so another job on the machine matters less.
 */

interface Steps {
  /** The append's validation: validateForEncoding where the build has it, else validateEvent per event. */
  validate(events: readonly Event[]): Event[];
  readonly encodeEvents: typeof Codec.encodeEvents;
  readonly decodeEvents: typeof Codec.decodeEvents;
  readonly deriveCommitId: typeof Builder.deriveCommitId;
  readonly buildCommit: typeof Builder.buildCommit;
  readonly ChainVerifier: typeof Chain.ChainVerifier;
  readonly GENESIS: typeof Chain.GENESIS;
  readonly commitEvents: typeof Payload.commitEvents;
  readonly ZERO_HASH: typeof Hash.ZERO_HASH;
}

async function load(root: string): Promise<Steps> {
  const at = (path: string): string => pathToFileURL(resolve(root, path)).href;
  const v = (await import(at("events/model/validate.js"))) as Partial<typeof Validate> & Pick<typeof Validate, "validateEvent">;
  const codec = (await import(at("events/codec/events-codec.js"))) as typeof Codec;
  const builder = (await import(at("events/commit-builder.js"))) as typeof Builder;
  const chain = (await import(at("events/chain-verifier.js"))) as typeof Chain;
  const payload = (await import(at("events/payload.js"))) as typeof Payload;
  const hash = (await import(at("events/hash.js"))) as typeof Hash;
  const fast = v.validateForEncoding;
  return {
    validate: fast ?? ((events) => events.map((e, i) => v.validateEvent(e, `events[${i}]`))),
    encodeEvents: codec.encodeEvents,
    decodeEvents: codec.decodeEvents,
    deriveCommitId: builder.deriveCommitId,
    buildCommit: builder.buildCommit,
    ChainVerifier: chain.ChainVerifier,
    GENESIS: chain.GENESIS,
    commitEvents: payload.commitEvents,
    ZERO_HASH: hash.ZERO_HASH,
  };
}

export async function abSteps(rootA: string, rootB: string, windows: number): Promise<void> {
  const builds = { A: await load(rootA), B: await load(rootB) };
  const { signer, trusted } = testSigner();
  const N = 20;
  const batches = Array.from({ length: N }, (_, b) => Array.from({ length: 100 }, (_, i) => entityEvent(b * 100 + i)));
  const fixtures = (s: Steps) => {
    const valid = batches.map((b) => s.validate(b));
    const payloads = valid.map((v) => s.encodeEvents(v));
    let prev = s.ZERO_HASH;
    const commits = valid.map((v, i) => {
      const c = s.buildCommit({ tenant: T, seq: (i + 1) as Seq, ts: 1, prevHash: prev, commitId: s.deriveCommitId(T, v.map((e) => e.id)), payload: payloads[i]!, count: 100, signer });
      prev = c.hash;
      return c.bytes;
    });
    return { valid, payloads, commits };
  };
  const data = { A: fixtures(builds.A), B: fixtures(builds.B) };
  if (data.A.commits.some((c, i) => !Buffer.from(c).equals(data.B.commits[i]!))) throw new Error("the two builds make different commits");
  let sink = 0;
  let verifier: Chain.ChainVerifier | null = null;
  type Fixtures = ReturnType<typeof fixtures>;
  const steps: Record<string, (s: Steps, f: Fixtures, i: number) => void> = {
    validate: (s, _f, i) => (sink += s.validate(batches[i]!).length),
    encode: (s, f, i) => (sink += s.encodeEvents(f.valid[i]!).length),
    "commit id": (s, f, i) => (sink += s.deriveCommitId(T, f.valid[i]!.map((e) => e.id)).length),
    build: (s, f, i) =>
      (sink += s.buildCommit({ tenant: T, seq: 1 as Seq, ts: 1, prevHash: s.ZERO_HASH, commitId: s.deriveCommitId(T, []), payload: f.payloads[i]!, count: 100, signer }).bytes.length),
    decode: (s, f, i) => (sink += s.decodeEvents(f.payloads[i]!).length),
    "verify + decode": (s, f, i) => {
      if (i === 0) verifier = new s.ChainVerifier(T, trusted, "batch", s.GENESIS);
      for (const e of s.commitEvents(verifier!.push(f.commits[i]!, i + 1), undefined)) sink += e.v;
      if (i === N - 1) verifier!.flush();
    },
  };
  for (const [name, step] of Object.entries(steps)) {
    const cpu = { A: [] as number[], B: [] as number[] };
    for (let w = 0; w < 2 * windows + 2; w++) {
      const which = w % 2 === 0 ? "A" : "B";
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      // Whole rounds of the 20 commits, so a verifier always starts at commit 1.
      while (performance.now() - t0 < 120 || n % N !== 0) step(builds[which], data[which], n++ % N);
      const c = process.cpuUsage(c0);
      if (w >= 2) cpu[which].push((c.user + c.system) / n);
    }
    const [a, b] = [median(cpu.A), median(cpu.B)];
    console.log(`${name.padEnd(16)} A ${a.toFixed(1).padStart(7)} µs  B ${b.toFixed(1).padStart(7)} µs  B/A ${(b / a).toFixed(2)}  (per 100-event commit, CPU)`);
  }
  if (sink === 0) console.log("nothing computed?");
}
