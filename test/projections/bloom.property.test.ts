import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BloomFilter } from "../../projections/store/bloom.js";
import { uuidBytes } from "../../projections/store/keys.js";

describe("BloomFilter", () => {
  it("never forgets a key it was given, split or whole (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ maxLength: 40 })), { minLength: 1, maxLength: 300 }), (keys) => {
        const f = new BloomFilter(keys.length);
        for (const [a, b] of keys) f.add(a, b);
        for (const [a, b] of keys) expect(f.mayContain(a, b)).toBe(true);
        expect(f.count).toBe(keys.length);
      }),
    );
  });

  it("keeps false positives near 1% at capacity, for random ids and for sequential text keys", () => {
    const n = 50_000;
    const prefix = new Uint8Array([4]);
    const ids = new BloomFilter(n);
    for (let i = 0; i < n; i++) ids.add(prefix, randomBytes(16));
    let fp = 0;
    for (let i = 0; i < n; i++) if (ids.mayContain(prefix, randomBytes(16))) fp++;
    expect(fp / n).toBeLessThan(0.025);

    const text = new BloomFilter(n);
    for (let i = 0; i < n; i++) text.add(prefix, Buffer.from(`note ${i}`));
    fp = 0;
    for (let i = n; i < 2 * n; i++) if (text.mayContain(prefix, Buffer.from(`note ${i}`))) fp++;
    expect(fp / n).toBeLessThan(0.025);
  });

  it("answers for uuid keys as the store builds them", () => {
    const f = new BloomFilter(1000);
    const id = "0b7c6a52-9c8e-4f3a-8d2b-5e1f0a9c7d31";
    f.add(new Uint8Array([4]), uuidBytes(id));
    expect(f.mayContain(new Uint8Array([4]), uuidBytes(id))).toBe(true);
  });
});
