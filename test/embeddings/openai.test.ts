import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRemError, type RemError } from "../../src/errors.js";
import { OpenAIProvider, type OpenAIProviderOptions } from "../../src/embeddings/openai.js";
import { clearProviderCache, resolveProvider } from "../../src/embeddings/registry.js";
import { FAKE_DIM, fakeVector, normalBody, startFakeOpenAI, type FakeOpenAI } from "./fake-openai-server.js";

let server: FakeOpenAI;

beforeEach(async () => {
  server = await startFakeOpenAI();
  clearProviderCache();
});

afterEach(async () => {
  await server.close();
});

/** A provider on the fake server with fast retries. */
function provider(options: Partial<OpenAIProviderOptions> = {}): OpenAIProvider {
  return new OpenAIProvider({ model: "test-model", baseURL: server.baseURL, apiKey: "sk-test", baseDelayMs: 5, maxDelayMs: 20, ...options });
}

const texts = (n: number, prefix = "text"): string[] => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);

function expectVectorsFor(input: readonly string[], vectors: Float32Array[], dim = FAKE_DIM): void {
  expect(vectors).toHaveLength(input.length);
  input.forEach((text, i) => {
    expect(vectors[i]).toBeInstanceOf(Float32Array);
    expect(Array.from(vectors[i]!)).toEqual(Array.from(Float32Array.from(fakeVector(text, dim))));
  });
}

async function providerError(p: Promise<unknown>): Promise<RemError> {
  const err = await p.then(
    () => expect.unreachable("expected a rejection"),
    (e: unknown) => e,
  );
  expect(isRemError(err, "REM_ERR_EMBEDDING_PROVIDER"), String(err)).toBe(true);
  return err as RemError;
}

describe("openai: provider against a local OpenAI-compatible server", () => {
  it("sends model, input and encoding_format float; returns one vector per text; learns dim", async () => {
    const p = provider();
    expect(p.name).toBe("openai:test-model");
    expect(p.dim).toBeNull();
    const input = ["alpha", "beta", "gamma"];
    expectVectorsFor(input, await p.embed(input));
    expect(p.dim).toBe(FAKE_DIM);
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req).toMatchObject({ method: "POST", path: "/v1/embeddings", model: "test-model", input, encodingFormat: "float" });
    expect(req!.dimensions).toBeUndefined();
  });

  it("puts vectors in input order even when the server shuffles data", async () => {
    server.respond = (req) => {
      const body = normalBody(req);
      // Reverse, then swap neighbours: no item stays where it was.
      const data = [...body.data].reverse();
      for (let i = 0; i + 1 < data.length; i += 2) [data[i], data[i + 1]] = [data[i + 1], data[i]];
      return { body: { ...body, data } };
    };
    const input = texts(9, "shuffled");
    expectVectorsFor(input, await provider().embed(input));
  });

  it("batches: 600 texts at batch 256 → 3 requests, model and dimensions on each (from a spec and env)", async () => {
    const p = resolveProvider("openai:my-model?dimensions=16", {
      OPENAI_BASE_URL: server.baseURL,
      OPENAI_API_KEY: "sk-batch",
      REM_EMBED_BATCH: "256",
    });
    expect(p.name).toBe("openai:my-model?dimensions=16");
    expect(p.model).toBe("my-model");
    const input = texts(600, "doc");
    const vectors = await p.embed(input);
    expectVectorsFor(input, vectors, 16);
    expect(p.dim).toBe(16);
    expect(server.requests.map((r) => r.input.length).sort((a, b) => a - b)).toEqual([88, 256, 256]);
    for (const r of server.requests) expect(r).toMatchObject({ model: "my-model", dimensions: 16, encodingFormat: "float" });
    // Each text sent exactly once, in its batch's order.
    const sent = [...server.requests].sort((a, b) => a.input[0]!.localeCompare(b.input[0]!, "en", { numeric: true })).flatMap((r) => r.input);
    expect(sent).toEqual(input);
  });

  it("keeps at most `concurrency` requests in flight, across concurrent calls too", async () => {
    server.delayMs = 40;
    const p = provider({ batchSize: 1, concurrency: 3 });
    const a = texts(10, "a");
    const b = texts(10, "b");
    const [va, vb] = await Promise.all([p.embed(a), p.embed(b)]);
    expectVectorsFor(a, va);
    expectVectorsFor(b, vb);
    expect(server.requests).toHaveLength(20);
    expect(server.maxInFlight).toBe(3);
    expect(p.inFlight).toBe(0);
  });

  it("retries a 429, waiting as long as its Retry-After says", async () => {
    server.respond = (_req, n) =>
      n === 0 ? { status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down", type: "rate_limit" } } } : undefined;
    const started = Date.now();
    const input = ["throttled"];
    expectVectorsFor(input, await provider({ baseDelayMs: 1 }).embed(input));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests).toHaveLength(2);
  });

  it("retries 500 and 503 with backoff, then succeeds", async () => {
    server.respond = (_req, n) => (n === 0 ? { status: 500, body: { error: { message: "boom" } } } : n === 1 ? { status: 503, raw: "busy" } : undefined);
    const input = texts(3);
    expectVectorsFor(input, await provider().embed(input));
    expect(server.requests).toHaveLength(3);
  });

  it("retries a dropped connection", async () => {
    server.respond = (_req, n) => (n === 0 ? "destroy" : undefined);
    const input = ["after a reset"];
    expectVectorsFor(input, await provider().embed(input));
    expect(server.requests).toHaveLength(2);
  });

  it("retries a request that timed out", async () => {
    server.respond = async (_req, n) => {
      if (n === 0) await new Promise((r) => setTimeout(r, 1_000));
      return undefined;
    };
    const started = Date.now();
    const input = ["slow first time"];
    expectVectorsFor(input, await provider({ timeoutMs: 100 }).embed(input));
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("gives up after maxAttempts, saying how often it tried and the last status", async () => {
    server.respond = () => ({ status: 503, body: { error: { message: "overloaded" } } });
    const err = await providerError(provider({ maxAttempts: 3 }).embed(["x"]));
    expect(server.requests).toHaveLength(3);
    expect(err.message).toContain("after 3 attempts");
    expect(err.message).toContain("503");
    expect(err.message).toContain("overloaded");
    expect(err.details.status).toBe(503);
  });

  for (const [status, message] of [
    [400, "input too long"],
    [401, "Incorrect API key provided"],
    [403, "not allowed"],
    [404, "model not found"],
  ] as const) {
    it(`does not retry ${status}: one request, the server's message in the error`, async () => {
      server.respond = () => ({ status, body: { error: { message, type: "invalid_request_error" } } });
      const err = await providerError(provider().embed(["x"]));
      expect(server.requests).toHaveLength(1);
      expect(err.message).toContain(`HTTP ${status}`);
      expect(err.message).toContain(message);
      expect(err.details.status).toBe(status);
      expect(err.cause).toBeInstanceOf(Error);
    });
  }

  const malformed: Array<[what: string, reply: (req: ReturnType<typeof normalBody>) => unknown, expected: RegExp]> = [
    ["too few embeddings", (b) => ({ ...b, data: b.data.slice(1) }), /2 embeddings came back for 3 inputs/],
    [
      "a non-numeric component",
      (b) => ({ ...b, data: b.data.map((d, i) => (i === 1 ? { ...(d as object), embedding: [0.1, "x", ...Array(FAKE_DIM - 2).fill(0)] } : d)) }),
      /data\[1\]\.embedding\[1\] is "x"/,
    ],
    ["mixed lengths", (b) => ({ ...b, data: b.data.map((d, i) => (i === 2 ? { ...(d as object), embedding: [0.1, 0.2] } : d)) }), /has 2 dimensions, expected 8/],
    ["a repeated index", (b) => ({ ...b, data: b.data.map((d) => ({ ...(d as object), index: 0 })) }), /index 0 appears more than once/],
    ["an index out of range", (b) => ({ ...b, data: b.data.map((d, i) => ({ ...(d as object), index: i + 1 })) }), /index is 3, not an integer in \[0, 3\)/],
    ["base64 instead of floats", (b) => ({ ...b, data: b.data.map((d) => ({ ...(d as object), embedding: "AAAA" })) }), /ignored encoding_format/],
    ["no data array", () => ({ object: "list" }), /no "data" array/],
  ];
  for (const [what, reply, expected] of malformed) {
    it(`refuses a response with ${what}`, async () => {
      server.respond = (req) => ({ body: reply(normalBody(req)) });
      const err = await providerError(provider().embed(["a", "b", "c"]));
      expect(err.message).toMatch(expected);
      expect(err.message).toContain("malformed response");
      expect(server.requests).toHaveLength(1); // a malformed answer is not retried
    });
  }

  it("refuses a non-finite component (1e999 parses to Infinity)", async () => {
    server.respond = () => ({ raw: '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,1e999]}],"model":"m"}' });
    const err = await providerError(provider().embed(["a"]));
    expect(err.message).toMatch(/embedding\[1\] is Infinity, not a finite number/);
  });

  it("refuses a later response whose vector length differs from the first", async () => {
    const p = provider();
    await p.embed(["first"]);
    server.respond = (req) => ({ body: { ...normalBody(req), data: [{ object: "embedding", index: 0, embedding: [1, 2, 3] }] } });
    const err = await providerError(p.embed(["second"]));
    expect(err.message).toMatch(/has 3 dimensions, expected 8/);
    expect(p.dim).toBe(FAKE_DIM);
  });

  it("sends OPENAI_API_KEY as a Bearer token, a placeholder without one, and refuses to start with neither", async () => {
    await resolveProvider("openai:m", { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: "sk-secret-123" }).embed(["k"]);
    await resolveProvider("openai:m", { OPENAI_BASE_URL: server.baseURL }).embed(["k"]);
    expect(server.requests.map((r) => r.authorization)).toEqual(["Bearer sk-secret-123", "Bearer no-key"]);
    let err: unknown;
    try {
      resolveProvider("openai:m", {});
    } catch (e) {
      err = e;
    }
    expect(isRemError(err, "REM_ERR_EMBEDDING_PROVIDER")).toBe(true);
    expect((err as Error).message).toMatch(/OPENAI_API_KEY/);
    expect((err as Error).message).toMatch(/OPENAI_BASE_URL/);
  });

  it("refuses empty text, naming its index, without sending anything", async () => {
    const err = await provider()
      .embed(["fine", "   "])
      .catch((e: unknown) => e);
    expect(isRemError(err, "REM_ERR_EMBEDDING_INVALID")).toBe(true);
    expect((err as Error).message).toContain("index 1");
    expect(server.requests).toHaveLength(0);
  });

  it("aborts in-flight requests when the signal aborts, rejecting with its reason", async () => {
    server.delayMs = 2_000;
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const started = Date.now();
    const pending = provider({ batchSize: 2 }).embed(texts(6), { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("fails the whole call when one batch fails for good, without waiting for the others", async () => {
    server.respond = async (req) => {
      if (req.input[0] === "t 2") return { status: 401, body: { error: { message: "bad key" } } };
      await new Promise((r) => setTimeout(r, 2_000));
      return undefined;
    };
    const started = Date.now();
    const err = await providerError(provider({ batchSize: 2, concurrency: 4 }).embed(texts(8, "t")));
    expect(err.message).toContain("bad key");
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
