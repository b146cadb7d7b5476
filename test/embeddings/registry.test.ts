import { beforeEach, describe, expect, it } from "vitest";
import { isRemError } from "../../src/errors.js";
import { LocalHashProvider } from "../../src/embeddings/local-hash.js";
import { OpenAIProvider } from "../../src/embeddings/openai.js";
import { clearProviderCache, parseProviderSpec, resolveProvider } from "../../src/embeddings/registry.js";

const LOCAL_BASE = { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" };

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  return expect.unreachable("expected a throw");
}

beforeEach(() => clearProviderCache());

describe("resolveProvider", () => {
  it("resolves default, null, undefined and empty to local:hash-384 unless REM_DEFAULT_EMBEDDING says otherwise", () => {
    for (const spec of ["default", "DEFAULT", null, undefined, "", "  "]) {
      const p = resolveProvider(spec, {});
      expect(p).toBeInstanceOf(LocalHashProvider);
      expect(p.name).toBe("local:hash-384");
    }
    const configured = resolveProvider(null, { ...LOCAL_BASE, REM_DEFAULT_EMBEDDING: "openai:nomic-embed-text:latest" });
    expect(configured).toBeInstanceOf(OpenAIProvider);
    expect(configured.name).toBe("openai:nomic-embed-text:latest");
    expect(configured.model).toBe("nomic-embed-text:latest");
    expect(resolveProvider("default", { REM_DEFAULT_EMBEDDING: "default" }).name).toBe("local:hash-384");
  });

  it("names REM_DEFAULT_EMBEDDING when its value is unknown", () => {
    const err = thrown(() => resolveProvider(undefined, { REM_DEFAULT_EMBEDDING: "bert-base" }));
    expect(isRemError(err, "REM_ERR_EMBEDDING_UNKNOWN_PROVIDER")).toBe(true);
    expect(err.message).toContain("REM_DEFAULT_EMBEDDING");
  });

  it("normalises specs", () => {
    expect(resolveProvider(" LOCAL:Hash-384 ", {}).name).toBe("local:hash-384");
    const p = resolveProvider(" OpenAI:text-embedding-3-small?dimensions=0256 ", LOCAL_BASE);
    expect(p.name).toBe("openai:text-embedding-3-small?dimensions=256");
    expect(p.model).toBe("text-embedding-3-small");
    expect((p as OpenAIProvider).dimensions).toBe(256);
    expect(parseProviderSpec("openai:m")).toEqual({ kind: "openai", name: "openai:m", model: "m", dimensions: undefined });
  });

  it("refuses unknown specs, listing what is supported", () => {
    for (const spec of ["bert", "cohere:embed-v3", "local:minilm", "openai:", "openai:a b", "openai:m?dims=3", "openai:m?dimensions=0", "openai:m?dimensions=x"]) {
      const err = thrown(() => resolveProvider(spec, LOCAL_BASE));
      expect(isRemError(err, "REM_ERR_EMBEDDING_UNKNOWN_PROVIDER"), `${spec}: ${String(err)}`).toBe(true);
      expect(err.message).toContain("local:hash-384");
      expect(err.message).toContain("openai:<model>");
    }
  });

  it("caches per spec and relevant environment", () => {
    expect(resolveProvider("local:hash-384", {})).toBe(resolveProvider("default", {}));
    const a = resolveProvider("openai:m", { ...LOCAL_BASE, OPENAI_API_KEY: "k1", UNRELATED: "1" });
    expect(resolveProvider("openai:m", { ...LOCAL_BASE, OPENAI_API_KEY: "k1", UNRELATED: "2" })).toBe(a);
    expect(resolveProvider(" OpenAI:m ", { ...LOCAL_BASE, OPENAI_API_KEY: "k1" })).toBe(a);
    expect(resolveProvider("openai:m", { ...LOCAL_BASE, OPENAI_API_KEY: "k2" })).not.toBe(a);
    expect(resolveProvider("openai:m", { ...LOCAL_BASE, OPENAI_API_KEY: "k1", REM_EMBED_BATCH: "8" })).not.toBe(a);
    expect(resolveProvider("openai:m?dimensions=4", { ...LOCAL_BASE, OPENAI_API_KEY: "k1" })).not.toBe(a);
  });

  it("reads REM_EMBED_* and refuses malformed values", () => {
    const p = resolveProvider("openai:m", { ...LOCAL_BASE, REM_EMBED_BATCH: "32", REM_EMBED_CONCURRENCY: "2", REM_EMBED_RETRIES: "1" });
    expect((p as OpenAIProvider).batchSize).toBe(32);
    expect(resolveProvider("openai:m", LOCAL_BASE)).toMatchObject({ batchSize: 256 });
    for (const [name, value] of [["REM_EMBED_BATCH", "abc"], ["REM_EMBED_CONCURRENCY", "0"], ["REM_EMBED_RETRIES", "-1"]]) {
      const err = thrown(() => resolveProvider("openai:m", { ...LOCAL_BASE, [name!]: value }));
      expect(isRemError(err, "REM_ERR_INVALID_ARGUMENT")).toBe(true);
      expect(err.message).toContain(name);
    }
  });
});
