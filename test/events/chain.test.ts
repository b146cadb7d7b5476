import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChainVerifier, GENESIS, type SignatureMode } from "../../events/chain-verifier.js";
import { commitEvents } from "../../events/payload.js";
import type { RawCommit } from "../../events/log/types.js";
import { isRemError, type ErrorCode } from "../../src/errors.js";
import { event } from "../support/arbitraries.js";
import { buildChain } from "../support/chain.js";
import { T, resolverFor, testDataKey, testSigner } from "../support/fixtures.js";
import { tenantName } from "../../events/model/ids.js";

const batches = fc.array(fc.array(event, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 });
const writer = testSigner();

function verifyAll(commits: RawCommit[], mode: SignatureMode, trusted = writer.trusted): void {
  const v = new ChainVerifier(T, trusted, mode, GENESIS);
  for (const c of commits) v.push(c.bytes, c.seq);
  v.flush();
}

function codeOf(fn: () => void): ErrorCode | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (isRemError(err)) return err.code;
    throw err;
  }
}

describe("hash chain and signatures", () => {
  it("verify(chain) holds for every prefix, in both signature modes", () => {
    fc.assert(
      fc.property(batches, fc.boolean(), (bs, encrypt) => {
        const chain = buildChain(T, writer.signer, bs, encrypt ? testDataKey() : undefined);
        for (let n = 1; n <= chain.length; n++) {
          verifyAll(chain.slice(0, n), "all");
          verifyAll(chain.slice(0, n), "batch");
        }
      }),
      { numRuns: 60 },
    );
  });

  it("detects any single-byte corruption (every signature checked)", () => {
    fc.assert(
      fc.property(batches, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (bs, which, where, xor) => {
        const chain = buildChain(T, writer.signer, bs);
        const i = which % chain.length;
        const bytes = chain[i]!.bytes.slice();
        bytes[where % bytes.length]! ^= xor;
        const damaged = chain.map((c, j) => (j === i ? { seq: c.seq, bytes } : c));
        const code = codeOf(() => verifyAll(damaged, "all"));
        expect(code).not.toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  it("in batch mode detects corruption of any byte but earlier commits' signature bytes", () => {
    fc.assert(
      fc.property(batches, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (bs, which, where, xor) => {
        const chain = buildChain(T, writer.signer, bs);
        const i = which % chain.length;
        const bytes = chain[i]!.bytes.slice();
        const pos = where % bytes.length;
        const inSignature = pos >= bytes.length - 64;
        bytes[pos]! ^= xor;
        const code = codeOf(() => verifyAll(chain.map((c, j) => (j === i ? { seq: c.seq, bytes } : c)), "batch"));
        if (!inSignature || i === chain.length - 1) expect(code).not.toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  it("names reordered, missing, replayed and foreign commits distinctly", () => {
    const chain = buildChain(T, writer.signer, [[event1()], [event1()], [event1()], [event1()]]);
    const [c1, c2, c3, c4] = chain as [RawCommit, RawCommit, RawCommit, RawCommit];
    // Missing commit 2: commit 3 arrives where 2 was expected.
    expect(codeOf(() => verifyAll([c1, { seq: c2.seq, bytes: c3.bytes }], "all"))).toBe("REM_ERR_SEQ_GAP");
    // A stored position skipped entirely.
    expect(codeOf(() => verifyAll([c1, c3], "all"))).toBe("REM_ERR_SEQ_GAP");
    // Replayed commit (same commit twice).
    expect(codeOf(() => verifyAll([c1, c2, c2], "all"))).toBe("REM_ERR_SEQ_GAP");
    // A different chain's commit 2 spliced in: right seq, wrong prev_hash.
    const other = buildChain(T, writer.signer, [[event1()], [event1()]]);
    expect(codeOf(() => verifyAll([c1, other[1]!, c3, c4], "all"))).toBe("REM_ERR_CHAIN_BROKEN");
    // Another tenant's commit.
    const foreign = buildChain(tenantName("other"), writer.signer, [[event1()]]);
    expect(codeOf(() => verifyAll(foreign, "all"))).toBe("REM_ERR_TENANT_MISMATCH");
  });

  it("refuses commits signed by an untrusted key, and forged signatures by a trusted one", () => {
    const mallory = testSigner();
    const forged = buildChain(T, mallory.signer, [[event1()], [event1()]]);
    expect(codeOf(() => verifyAll(forged, "batch"))).toBe("REM_ERR_UNKNOWN_KEY");
    const chain = buildChain(T, writer.signer, [[event1()], [event1()]]);
    const bad = chain[1]!.bytes.slice();
    bad.set(mallory.signer.sign(new Uint8Array(45)), bad.length - 64);
    expect(codeOf(() => verifyAll([chain[0]!, { seq: chain[1]!.seq, bytes: bad }], "batch"))).toBe("REM_ERR_BAD_SIGNATURE");
  });

  it("verifies an encrypted chain without its key, and refuses to decrypt with the wrong key", () => {
    const key = testDataKey();
    const chain = buildChain(T, writer.signer, [[event1()], [event1()]], key);
    const v = new ChainVerifier(T, writer.trusted, "all", GENESIS);
    const verified = chain.map((c) => v.push(c.bytes, c.seq));
    expect(commitEvents(verified[1]!, resolverFor(T, key))).toHaveLength(1);
    const wrong = { ...testDataKey(), keyId: key.keyId };
    expect(codeOf(() => commitEvents(verified[1]!, resolverFor(T, wrong)))).toBe("REM_ERR_DECRYPT");
    expect(codeOf(() => commitEvents(verified[1]!, undefined))).toBe("REM_ERR_KEY_NOT_FOUND");
  });
});

function event1() {
  return fc.sample(event, 1)[0]!;
}
