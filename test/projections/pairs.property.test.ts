import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packPairs } from "../../projections/store/pairs.js";
import { pack, unpack } from "../../projections/store/records.js";

describe("packPairs", () => {
  it("is MessagePack that unpacks to the same pairs as msgpackr's own packing (property)", () => {
    // Lengths around the format boundaries: fixarray 16, fixstr 32, str8 256, and multi-byte UTF-8.
    const str = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 250, maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 20 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(str, str), { maxLength: 40 }), (pairs) => {
        const ours = packPairs(pairs);
        expect(unpack<[string, string][]>(ours)).toEqual(pairs);
        expect(unpack<[string, string][]>(ours)).toEqual(unpack<[string, string][]>(pack(pairs)));
      }),
    );
  });

  it("handles lists longer than 65,535 pairs and strings longer than 65,535 bytes", () => {
    const many: [string, string][] = Array.from({ length: 70_000 }, (_, i) => [`k${i}`, "s"]);
    expect(unpack<[string, string][]>(packPairs(many))).toEqual(many);
    const long: [string, string][] = [["x".repeat(70_000), "é".repeat(40_000)]];
    expect(unpack<[string, string][]>(packPairs(long))).toEqual(long);
  });
});
