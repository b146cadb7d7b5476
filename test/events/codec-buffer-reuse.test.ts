import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { encodeEvents, encodeEventsTransient } from "../../events/codec/events-codec.js";
import { deriveCommitId } from "../../events/commit-builder.js";
import { blake3, utf8 } from "../../events/hash.js";
import { validateEvent } from "../../events/model/validate.js";
import { T, entityEvent } from "../support/fixtures.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("encoding into msgpackr's reused buffer", () => {
  it("leaves earlier results intact: encodeEvents' own, and other msgpackr users' views", () => {
    const evs = Array.from({ length: 100 }, (_, i) => validateEvent(entityEvent(i)));
    const owned = encodeEvents(evs.slice(0, 50));
    const ownedHex = hex(owned);
    // Every Packr in the process shares msgpackr's module-level buffer: another module's result is a view into it.
    const other = new Packr({ useRecords: false }).pack({ kept: "by another module", n: [1, 2, 3] });
    const otherHex = hex(other);
    // Later encodes are larger than the one before `other`: they must not reach into it.
    for (let i = 1; i <= 100; i++) encodeEventsTransient(evs.slice(0, i));
    expect(hex(owned)).toBe(ownedHex);
    expect(hex(other)).toBe(otherHex);
    expect(hex(encodeEventsTransient(evs.slice(0, 50)))).toBe(ownedHex);
  });
});

describe("deriveCommitId's reused encoding buffer", () => {
  /** The definition (docs/event-format.md §3.3), written plainly. */
  const reference = (tenant: string, ids: readonly string[]): string => {
    const text = ids.length === 0 ? tenant : `${tenant}\u0000${ids.join("\u0000")}`;
    return Buffer.from(blake3(utf8("rem/commit-id/v1"), new TextEncoder().encode(text)).subarray(0, 16)).toString("hex");
  };

  it("derives the ids of the definition, for any text and any size", () => {
    const ids = fc.oneof(fc.array(fc.uuid()), fc.array(fc.string({ unit: "binary" }), { maxLength: 5 }), fc.constant(["x".repeat(70_000)]));
    fc.assert(
      fc.property(ids, (list) => {
        expect(deriveCommitId(T, list)).toBe(reference(T, list));
      }),
      { numRuns: 300 },
    );
  });
});
