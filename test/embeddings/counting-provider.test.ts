import { describe, expect, it } from "vitest";
import { LocalHashProvider } from "../../src/embeddings/local-hash.js";
import { countingProvider } from "../support/counting-provider.js";

describe("countingProvider", () => {
  it("counts calls and texts, delegates everything, and resets", async () => {
    const inner = new LocalHashProvider();
    const p = countingProvider(inner);
    expect([p.name, p.model, p.dim, p.calls, p.texts]).toEqual([inner.name, inner.model, 384, 0, 0]);
    const [v] = await p.embed(["a", "b", "c"]);
    await p.embed(["d"]);
    await expect(p.embed([""])).rejects.toThrow(/index 0/);
    expect([p.calls, p.texts]).toEqual([3, 5]);
    expect(Array.from(v!)).toEqual(Array.from(inner.embedSync(["a"])[0]!));
    p.reset();
    expect([p.calls, p.texts]).toEqual([0, 0]);
  });
});
