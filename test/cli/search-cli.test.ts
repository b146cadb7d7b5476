import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAI } from "../embeddings/fake-openai-server.js";
import { rem } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

let root: { path: string; cleanup(): Promise<void> };
let openai: FakeOpenAI;
beforeAll(async () => {
  root = await tempDir("rem-cli-search-");
  openai = await startFakeOpenAI();
});
afterAll(async () => {
  await openai.close();
  await root.cleanup();
});

function node(name: string, env: Record<string, string> = {}) {
  return (args: string[], input?: string, extra: Record<string, string | undefined> = {}) =>
    rem(args, { env: { REM_DATA: join(root.path, name), REM_PASSPHRASE: "search passphrase", ...env, ...extra }, input });
}

const NOTES = (provider?: string) =>
  JSON.stringify({
    name: "notes",
    type: "object",
    properties: { title: { type: "string" }, content: { type: "string" }, topic: { type: "string" } },
    required: ["title"],
    key_field: "title",
    indexed_fields: ["topic"],
    embedding_fields: ["content"],
    ...(provider ? { embedding_provider: provider } : {}),
  });

const docs = [
  { title: "rust", content: "Rust gives memory safety without a garbage collector", topic: "programming" },
  { title: "go", content: "Go has goroutines and a garbage collector", topic: "programming" },
  { title: "tea", content: "Green tea is brewed with water below boiling", topic: "food" },
  { title: "bread", content: "Sourdough bread needs a starter and patience", topic: "food" },
];

describe("rem search with the local embedder (default)", () => {
  const n = node("local");

  it("embeds on insert (searchable at once) and ranks lexically similar texts first", async () => {
    await n(["init", "--kdf-cost", "12"]);
    await writeFile(join(root.path, "notes.json"), NOTES());
    await n(["schema", "add", join(root.path, "notes.json")]);
    const ins = await n(["insert", "notes", "--batch"], docs.map((d) => JSON.stringify(d)).join("\n"));
    expect(ins.code, ins.stderr).toBe(0);
    expect(ins.json).toMatchObject({ embeddings: { embedded: 4, pending: 0 } });
    const r = await n(["search", "memory safety garbage collector", "--schema", "notes", "--top-k", "2"]);
    expect(r.code, r.stderr).toBe(0);
    const hits = r.json as { id: string; score: number; entity: { title: string } }[];
    expect(hits.map((h) => h.entity.title)).toEqual(["rust", "go"]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it("filters with a SQL predicate, and speaks SEARCH in the query language", async () => {
    const r = await n(["search", "garbage collector", "--schema", "notes", "--where", "topic = 'food'", "--explain"]);
    const out = r.json as { hits: { entity: { topic: string } }[]; plan: { strategy: string; candidates: number } };
    expect(out.plan).toMatchObject({ strategy: "exact", candidates: 2 });
    expect(out.hits.every((h) => h.entity.topic === "food")).toBe(true);
    const q = await n(["query", "SEARCH notes 'green tea water' WHERE topic = 'food' LIMIT 1"]);
    expect(q.json).toMatchObject([{ entity: { title: "tea" } }]);
    expect((await n(["search", "x", "--schema", "notes", "--where", "nope = 1"])).error?.code).toBe("REM_ERR_QUERY_INVALID");
    expect((await n(["search", "x", "--schema", "ghost"])).error?.code).toBe("REM_ERR_SCHEMA_NOT_FOUND");
    expect((await n(["search", "  ", "--schema", "notes"])).error?.code).toBe("REM_ERR_EMBEDDING_INVALID");
  });

  it("reports the index and an empty backlog in status; deletes leave search", async () => {
    const s = (await n(["status"])).json as { embeddings: { backlog: object; indexes: { schema: string; vectors: number }[] } };
    expect(s.embeddings.backlog).toEqual({});
    expect(s.embeddings.indexes).toMatchObject([{ schema: "notes", field: "content", dim: 384, vectors: 4 }]);
    const rust = ((await n(["lookup", "rust"])).json as { id: string }[])[0]!.id;
    await n(["delete", rust]);
    const r = (await n(["search", "memory safety", "--schema", "notes"])).json as { id: string }[];
    expect(r.map((h) => h.id)).not.toContain(rust);
  });
});

describe("rem search through an OpenAI-compatible server", () => {
  it("embeds with the server, survives its outage without losing anything, and catches up with rem embed", async () => {
    const env = { OPENAI_BASE_URL: openai.baseURL, OPENAI_API_KEY: "test-key", REM_EMBED_RETRIES: "2" };
    const n = node("openai", env);
    await n(["init", "--kdf-cost", "12"]);
    await writeFile(join(root.path, "notes-openai.json"), NOTES("openai:fake-model"));
    await n(["schema", "add", join(root.path, "notes-openai.json")]);
    const before = openai.requests.length;
    const ins = await n(["insert", "notes", "--batch"], docs.map((d) => JSON.stringify(d)).join("\n"));
    expect(ins.json).toMatchObject({ embeddings: { embedded: 4, pending: 0 } });
    expect(openai.requests.length).toBe(before + 1); // one batched request for four texts
    expect(openai.requests.at(-1)).toMatchObject({ model: "fake-model", authorization: "Bearer test-key" });
    const hits = (await n(["search", docs[2]!.content, "--schema", "notes", "--top-k", "1"])).json as { entity: { title: string }; score: number }[];
    expect(hits[0]).toMatchObject({ entity: { title: "tea" } });
    expect(hits[0]!.score).toBeGreaterThan(0.999);

    // The server fails: the insert is stored, the embedding waits in the backlog.
    openai.respond = () => ({ status: 503, body: { error: { message: "overloaded" } } });
    const down = await n(["insert", "notes", JSON.stringify({ title: "cheese", content: "Aged cheese and wine", topic: "food" })]);
    expect(down.code).toBe(0);
    expect(down.json).toMatchObject({ embeddings: { embedded: 0, pending: 1, error: { code: "REM_ERR_EMBEDDING_PROVIDER" } } });
    expect(down.stderr).toMatch(/rem embed/);
    expect(((await n(["status"])).json as { embeddings: { backlog: object } }).embeddings.backlog).toEqual({ "notes.content": 1 });
    const stillDown = await n(["embed"]);
    expect(stillDown.code).toBe(1);
    // Back up: the backlog drains, and the entity becomes searchable.
    openai.respond = null;
    const embed = await n(["embed"]);
    expect(embed.json).toEqual({ embedded: 1, pending: 0 });
    const found = (await n(["search", "Aged cheese and wine", "--schema", "notes", "--top-k", "1"])).json as { entity: { title: string } }[];
    expect(found[0]!.entity.title).toBe("cheese");

    // A rebuild replays recorded vectors: the server is not asked again.
    const requests = openai.requests.length;
    await n(["rebuild"]);
    await n(["search", "Aged cheese and wine", "--schema", "notes", "--top-k", "1"]);
    expect(openai.requests.length).toBe(requests + 1); // only the query itself was embedded
  });
});
