import { describe, expect, it } from "vitest";
import { parseCommit } from "../../events/codec/commit.js";
import { signatureMessage } from "../../events/commit-builder.js";
import { blake3 } from "../../events/hash.js";
import { verifyKeyFromPublic } from "../../events/signing.js";
import { vectorCommit } from "./commit-vector.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** These values are printed in docs/event-format.md §8; if this test changes, the spec must too. */
describe("docs/event-format.md test vector", () => {
  const v = vectorCommit();

  it("has the documented key, ids, payload, hash and bytes", () => {
    expect(hex(v.signer.publicKey)).toBe("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
    expect(v.signer.keyId).toBe("57649df39ec7a437");
    expect(v.commitId).toBe("95cb868430346e39d872441f775798d4");
    expect(hex(v.payload)).toBe(
      "9186a474797065af656e746974792e7570736572746564a17601a26964d92430303030303030302d303030302d343030302d383030302d303030303030303030303031a9656e746974795f6964d92430303030303030302d303030302d383030302d383030302d303030303030303030303032a6736368656d61a56e6f746573a46461746182a16e01a57469746c65a26869",
    );
    expect(hex(v.commit.hash)).toBe("04f0cc297d4c07c5ccd92bbf77286d2388526f463dbdd39d53c79df1f66c8c29");
    expect(v.commit.bytes.length).toBe(323);
    expect(hex(v.commit.bytes)).toBe(
      "52454d310100007100000000000000010000019b76daa800000000000000000000000000000000000000000000000000000000000000000095cb868430346e39d872441f775798d457649df39ec7a437000000000000000000000000000000000000000000000001000000920461636d65" +
        hex(v.payload) +
        "9edbc43e8082326cb636e9c181026e481cf2b4f6409399c9e208858e2c43a823719e51838a8d2ac3070833421b267c86b5f8511b964bce29883155aee66f680d",
    );
  });

  it("verifies the way the spec says a reader must", () => {
    const p = parseCommit(v.commit.bytes);
    expect(hex(blake3(p.unsigned))).toBe(hex(v.commit.hash));
    expect(verifyKeyFromPublic(v.signer.publicKey).verify(signatureMessage(blake3(p.unsigned)), p.signature)).toBe(true);
  });
});
