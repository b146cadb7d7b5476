import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { blake3, utf8 } from "../../events/hash.js";
import { generateSigningSeed, signerFromSeed, verifyKeyFromPublic } from "../../events/signing.js";
import { checkSnapshotSignature, signSnapshot, snapshotSignatureMessage } from "../../replay/archive/snapshot-signature.js";
import type { ManifestSnapshot } from "../../replay/archive/manifest.js";

const snap: ManifestSnapshot = {
  seq: 4000,
  hash: "ab".repeat(32),
  ts: 1767229100000,
  created_at: "2026-01-01T00:00:00.000Z",
  store_format: 3,
  objects: [
    { key: "snapshots/00000000000000004000/store.kv.00000", bytes: 123, blake3: "cd".repeat(32) },
    { key: "snapshots/00000000000000004000/vectors/CURRENT.00000", bytes: 9, blake3: "ef".repeat(32) },
  ],
};

describe("projection snapshot signatures (docs/event-format.md §10.4)", () => {
  it("signs the statement the spec describes, one field per line", () => {
    const statement =
      "acme\n4000\n" + "ab".repeat(32) + "\n1767229100000\n3\n" +
      "snapshots/00000000000000004000/store.kv.00000\n123\n" + "cd".repeat(32) + "\n" +
      "snapshots/00000000000000004000/vectors/CURRENT.00000\n9\n" + "ef".repeat(32) + "\n";
    const expected = Buffer.concat([Buffer.from("rem/snapshot/v1"), Buffer.from(blake3(utf8(statement)))]);
    expect(Buffer.from(snapshotSignatureMessage("acme", snap))).toEqual(expected);
  });

  it("any change to a signed member breaks the signature; created_at is not signed", () => {
    const signer = signerFromSeed(generateSigningSeed().seed);
    const trusted = new Map([[signer.keyId as string, verifyKeyFromPublic(signer.publicKey)]]);
    const signed = { ...snap, ...signSnapshot("acme", snap, signer) };
    expect(() => checkSnapshotSignature("acme", signed, trusted, "m")).not.toThrow();
    expect(() => checkSnapshotSignature("acme", { ...signed, created_at: "later" }, trusted, "m")).not.toThrow();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 1000 }), (field, d) => {
        const o0 = signed.objects[0]!;
        const variants: ManifestSnapshot[] = [
          { ...signed, seq: signed.seq + d },
          { ...signed, ts: signed.ts + d },
          { ...signed, store_format: signed.store_format + d },
          { ...signed, hash: "ac".repeat(32) },
          { ...signed, objects: [{ ...o0, bytes: o0.bytes + d }, signed.objects[1]!] },
          { ...signed, objects: [signed.objects[1]!, o0] },
          { ...signed, objects: [o0] },
        ];
        expect(() => checkSnapshotSignature("acme", variants[field]!, trusted, "m")).toThrow(expect.objectContaining({ code: "REM_ERR_BAD_SIGNATURE" }));
      }),
    );
    expect(() => checkSnapshotSignature("other", signed, trusted, "m")).toThrow(expect.objectContaining({ code: "REM_ERR_BAD_SIGNATURE" }));
    expect(() => checkSnapshotSignature("acme", signed, new Map(), "m")).toThrow(expect.objectContaining({ code: "REM_ERR_UNKNOWN_KEY" }));
  });
});
