import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareIndexValues, compareCodePoints } from "../../projections/indexing.js";
import { decString, decValue, encString, encValue, uuidBytes, uuidText, type IndexValue } from "../../projections/store/keys.js";

const indexValue: fc.Arbitrary<IndexValue> = fc.oneof(
  fc.constant({ t: "null" } as const),
  fc.boolean().map((v) => ({ t: "bool", v }) as const),
  fc.double({ noNaN: true }).map((v) => ({ t: "number", v: Object.is(v, -0) ? 0 : v }) as const),
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((v) => ({ t: "date", v }) as const),
  fc.string({ unit: "binary" }).map((v) => ({ t: "string", v }) as const),
);

describe("order-preserving key encodings", () => {
  it("decode(encode(v)) = v, without touching the encoded bytes", () => {
    fc.assert(
      fc.property(indexValue, (v) => {
        const enc = encValue(v);
        const copy = Buffer.from(enc);
        expect(decValue(enc, 0).value).toEqual(v);
        expect(Buffer.from(enc).equals(copy)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("bytewise order of encodings = compareIndexValues order", () => {
    fc.assert(
      fc.property(indexValue, indexValue, (a, b) => {
        expect(Math.sign(Buffer.compare(encValue(a), encValue(b)))).toBe(Math.sign(compareIndexValues(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it("strings: self-delimiting, code point order, any content (NULs, astral)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        const ea = encString(a);
        expect(decString(Buffer.concat([ea, Buffer.from([0xff, 0x00])]), 0)).toEqual({ value: a, next: ea.length });
        expect(Math.sign(Buffer.compare(ea, encString(b)))).toBe(Math.sign(compareCodePoints(a, b)));
      }),
      { numRuns: 2000 },
    );
  });

  it("uuid bytes round-trip and keep text order", () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (a, b) => {
        expect(uuidText(uuidBytes(a))).toBe(a.toLowerCase());
        expect(Math.sign(Buffer.compare(uuidBytes(a), uuidBytes(b)))).toBe(Math.sign(a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
      }),
    );
    expect(() => uuidBytes("not-a-uuid")).toThrow(/not a UUID/);
    // The canonical-form fast path checks every digit: a bad one anywhere, an ASCII or a wide character.
    const good = "0b7c6a52-9c8e-4f3a-8d2b-5e1f0a9c7d31";
    for (let i = 0; i < good.length; i++) {
      if (good[i] === "-") continue;
      for (const bad of ["g", "z", " ", "é", "\u0130", "\u0161"]) {
        expect(() => uuidBytes(good.slice(0, i) + bad + good.slice(i + 1))).toThrow(/not a UUID/);
      }
    }
    // The non-canonical forms still parse as before (no dashes; upper case).
    expect(uuidText(uuidBytes(good.replaceAll("-", "")))).toBe(good);
    expect(uuidText(uuidBytes(good.toUpperCase()))).toBe(good);
  });
});
