import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isRemError } from "../../src/errors.js";
import { HASH_DIM, LocalHashProvider } from "../../src/embeddings/local-hash.js";

const bytes = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
/** SHA-256 of the vector as little-endian float32s, the same on any platform. */
function sha256(v: Float32Array): string {
  const le = new DataView(new ArrayBuffer(v.length * 4));
  v.forEach((x, i) => le.setFloat32(i * 4, x, true));
  return createHash("sha256").update(new Uint8Array(le.buffer)).digest("hex");
}
const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable("expected a rejection"),
    (err: unknown) => err,
  );
}

describe("local:hash-384", () => {
  const p = new LocalHashProvider();

  it("names itself and has 384 dimensions", async () => {
    expect(p.name).toBe("local:hash-384");
    expect(p.model).toBe("hash-384");
    expect(p.dim).toBe(HASH_DIM);
    const [v] = await p.embed(["hello world"]);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v!.length).toBe(384);
  });

  it("is deterministic: identical bytes across calls, instances and neighbouring texts", async () => {
    const text = "REM stores agent memories as signed events; projections are rebuilt by replay.";
    const [a] = await p.embed([text]);
    const [, b] = await p.embed(["something else entirely, and long: " + "x".repeat(5000), text]);
    const [c] = await new LocalHashProvider().embed([text]);
    expect(bytes(b!).equals(bytes(a!))).toBe(true);
    expect(bytes(c!).equals(bytes(a!))).toBe(true);
  });

  it("matches pinned vectors (a change here invalidates every stored hash-384 vector)", () => {
    const [ascii, unicode, symbols] = p.embedSync(["The quick brown fox jumps over the lazy dog", "Grüße aus Zürich, 東京 2024", "?!"]);
    expect(sha256(ascii!)).toBe(PINNED.ascii);
    expect(sha256(unicode!)).toBe(PINNED.unicode);
    expect(sha256(symbols!)).toBe(PINNED.symbols);
  });

  it("returns unit vectors for any non-blank text", () => {
    const samples = ["a", "?!", "🙂🙂", "東京タワー", "x".repeat(20_000), "Ünïcödé  mixed 123 words", "\u200b"];
    for (const v of p.embedSync(samples)) expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-5);
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ""),
        (s) => {
          const [v, w] = p.embedSync([s, s]);
          expect(Math.abs(norm(v!) - 1)).toBeLessThan(1e-5);
          expect(v!.every(Number.isFinite)).toBe(true);
          expect(bytes(v!).equals(bytes(w!))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("ignores case and Unicode normalisation form", () => {
    const [lower, upper, composed, decomposed] = p.embedSync(["hello world", "HELLO World", "café crème", "cafe\u0301 cre\u0300me"]);
    expect(bytes(upper!).equals(bytes(lower!))).toBe(true);
    expect(bytes(decomposed!).equals(bytes(composed!))).toBe(true);
  });

  it("scores texts sharing words clearly above unrelated texts", () => {
    const groups: Array<[anchor: string, related: string, unrelated: string]> = [
      ["The cat sat on the mat", "A cat was sitting on the mat", "Quarterly revenue grew by twelve percent"],
      [
        "REM stores agent memories as events in a signed log",
        "agent memories are stored as signed log events",
        "The weather in Paris is sunny today",
      ],
      ["embedding providers for vector search", "vector search needs embeddings", "a recipe for chocolate cake with cream"],
      ["Der Hund spielt im Garten", "Im Garten spielt ein Hund", "Quantum computers factor large numbers"],
    ];
    for (const [anchor, related, unrelated] of groups) {
      const [a, r, u] = p.embedSync([anchor, related, unrelated]);
      const near = cosine(a!, r!);
      const far = cosine(a!, u!);
      expect(near, `${anchor} ~ ${related}`).toBeGreaterThan(0.25);
      expect(near - far, `${anchor}: related ${near.toFixed(3)} vs unrelated ${far.toFixed(3)}`).toBeGreaterThan(0.2);
    }
    // Character 3-grams let inflections meet even with no word in common.
    const [one, many, other] = p.embedSync(["embedding", "embeddings", "pineapple"]);
    expect(cosine(one!, many!)).toBeGreaterThan(cosine(one!, other!) + 0.2);
  });

  it("refuses empty or whitespace-only text, naming its index, before embedding anything", async () => {
    for (const [texts, index] of [
      [["ok", " \t\n", "fine"], 1],
      [[""], 0],
      [["a", "b", "c", "\u00a0"], 3],
    ] as const) {
      const err = await rejection(p.embed(texts));
      expect(isRemError(err, "REM_ERR_EMBEDDING_INVALID"), String(err)).toBe(true);
      expect((err as Error).message).toContain(`index ${index}`);
      expect(isRemError(err) && err.details.index).toBe(index);
    }
    const notString = await rejection(p.embed(["a", 42 as unknown as string]));
    expect(isRemError(notString, "REM_ERR_EMBEDDING_INVALID")).toBe(true);
  });

  it("embeds an empty list to an empty list", async () => {
    expect(await p.embed([])).toEqual([]);
  });

  it("embeds a batch of 1,000 texts, each as if alone, in order", async () => {
    const texts = Array.from({ length: 1000 }, (_, i) => `memory ${i}: the agent noted fact number ${i * 7919} about topic ${i % 37}`);
    const vectors = await p.embed(texts);
    expect(vectors).toHaveLength(1000);
    const distinct = new Set<string>();
    for (let i = 0; i < texts.length; i++) {
      const v = vectors[i]!;
      expect(v.length).toBe(384);
      if (i % 50 === 0) expect(bytes(v).equals(bytes(p.embedSync([texts[i]!])[0]!))).toBe(true);
      distinct.add(sha256(v));
    }
    expect(distinct.size).toBe(1000);
  });

  it("rejects with the reason of an aborted signal", async () => {
    const reason = new Error("stop");
    await expect(p.embed(["x"], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});

const PINNED = {
  ascii: "3b524bd941080855bb32f2bcb9c1e228aaff0f71f9a26e6253ef727a32a9b5ca",
  unicode: "68d8cb72a7b591a8588207071bf2125bfa264512bbcf64d6e474579812399c64",
  symbols: "2ff61865b15aa7bee3b5c59d7cfed265e38936eb80d0d4c905e02ac29b29e07a",
};
