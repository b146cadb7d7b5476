import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BLAKE3_IMPL, blake3, blake3Native, blake3Wasm } from "../../events/hash.js";

describe("BLAKE3", () => {
  it("matches the official test vector (empty input)", () => {
    expect(Buffer.from(blake3()).toString("hex")).toBe("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
  });

  it("native and WebAssembly implementations agree on any input split", () => {
    expect(["native", "wasm"]).toContain(BLAKE3_IMPL);
    const native = blake3Native;
    if (native === null) return; // platform without the prebuilt binary: the fallback is what runs
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 4 }), (parts) => {
        expect(Buffer.from(native(parts)).equals(Buffer.from(blake3Wasm(parts)))).toBe(true);
      }),
      { numRuns: 300 },
    );
    const big = new Uint8Array(200_000).map((_, i) => i * 7);
    expect(Buffer.from(native([big])).equals(Buffer.from(blake3Wasm([big])))).toBe(true);
  });
});
