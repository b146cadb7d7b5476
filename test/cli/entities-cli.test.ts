import { spawn } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProjectionStore } from "../../projections/store/store.js";
import { rem } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

let root: { path: string; cleanup(): Promise<void> };
beforeAll(async () => {
  root = await tempDir("rem-cli-entities-");
});
afterAll(() => root.cleanup());

function node(name: string) {
  return (args: string[], input?: string) => rem(args, { env: { REM_DATA: join(root.path, name), REM_PASSPHRASE: "entities passphrase" }, input });
}

const ARTICLES = `
title: Article
type: object
properties:
  title: {type: string}
  content: {type: string}
  category: {type: string}
  views: {type: integer, minimum: 0}
  published: {type: string, format: date-time}
  tags: {type: array, items: {type: string}}
required: [title]
json_schema_extra:
  name: articles
  key_field: title
  indexed_fields: [category]
  embedding_fields: [content]
`;

describe("rem CLI: schemas, entities, graph", () => {
  const n = node("main");
  const ids: Record<string, string> = {};

  it("init registers the core schemas; templates are listed", async () => {
    await n(["init", "--kdf-cost", "12"]);
    const list = await n(["schema", "list"]);
    expect((list.json as { name: string }[]).map((s) => s.name)).toEqual(["messages", "moments", "sessions"]);
    const templates = await n(["schema", "templates"]);
    expect((templates.json as { name: string }[]).map((t) => t.name)).toEqual(["resources", "entities", "agentlets", "moments"]);
  });

  it("registers a YAML schema; re-registering the same definition is a no-op", async () => {
    const file = join(root.path, "articles.yaml");
    await writeFile(file, ARTICLES);
    const r = await n(["schema", "add", file]);
    expect(r.json).toMatchObject({ name: "articles", outcome: "registered" });
    const again = await n(["schema", "add", file]);
    expect(again.json).toMatchObject({ name: "articles", outcome: "unchanged" });
    const show = await n(["schema", "show", "articles"]);
    expect(show.json).toMatchObject({ title: "Article", json_schema_extra: { key_field: "title" } });
  });

  it("clones a template, to a file or registered", async () => {
    const out = join(root.path, "docs.yaml");
    const f = await n(["schema", "add", "--name", "docs", "--template", "resources", "--output", out]);
    expect(f.json).toMatchObject({ name: "docs", registered: false });
    const r = await n(["schema", "add", out]);
    expect(r.json).toMatchObject({ name: "docs", outcome: "registered" });
    const direct = await n(["schema", "add", "--name", "agents", "--template", "agentlets"]);
    expect(direct.json).toMatchObject({ name: "agents", outcome: "registered" });
    const list = await n(["schema", "list"]);
    expect((list.json as { name: string; fully_qualified_name: string }[]).find((s) => s.name === "docs")).toMatchObject({ fully_qualified_name: "user.docs", embedding_fields: ["content"], key_field: "uri" });
  });

  it("inserts with deterministic ids: the same key is an upsert", async () => {
    const a = await n(["insert", "articles", JSON.stringify({ title: "Rust", category: "programming", views: 3, tags: ["systems"] })]);
    expect(a.code, a.stderr).toBe(0);
    const { ids: [rust] } = a.json as { ids: string[]; seq: number };
    expect(rust).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const again = await n(["insert", "articles", JSON.stringify({ title: "Rust", category: "systems", views: 4 })]);
    expect((again.json as { ids: string[] }).ids).toEqual([rust]);
    const got = await n(["get", rust!]);
    expect(got.json).toMatchObject({ id: rust, entity_type: "articles", title: "Rust", category: "systems", views: 4, deleted_at: null });
    expect((got.json as Record<string, unknown>).tags).toBeUndefined(); // an upsert replaces the user fields
    const g = got.json as { created_at: string; modified_at: string };
    expect(Date.parse(g.modified_at)).toBeGreaterThanOrEqual(Date.parse(g.created_at));
    ids.rust = rust!;
  });

  it("inserts a JSONL batch in one go, and refuses a batch with one bad line whole", async () => {
    const lines = ["Go", "Zig", "Cells"].map((t, i) => JSON.stringify({ title: t, category: i < 2 ? "programming" : "science" })).join("\n");
    const r = await n(["insert", "articles", "--batch"], lines);
    expect((r.json as { ids: string[] }).ids).toHaveLength(3);
    [ids.go, ids.zig, ids.cells] = (r.json as { ids: string[] }).ids as [string, string, string];
    const before = (await n(["status"])).json as { log: { head_seq: number } };
    const bad = await n(["insert", "articles", "--batch"], `${JSON.stringify({ title: "Ok" })}\n${JSON.stringify({ title: "Bad", views: -1 })}\n`);
    expect(bad.code).toBe(1);
    expect(bad.error).toMatchObject({ code: "REM_ERR_ENTITY_INVALID", details: { path: "views" } });
    expect(bad.error?.message).toMatch(/^line 2: views/);
    const broken = await n(["insert", "articles", "--batch"], `${JSON.stringify({ title: "Ok" })}\n{"title": \n`);
    expect(broken.error).toMatchObject({ code: "REM_ERR_ENTITY_INVALID", details: { line: 2 } });
    const after = (await n(["status"])).json as { log: { head_seq: number } };
    expect(after.log.head_seq).toBe(before.log.head_seq);
  });

  it("refuses system fields, unknown schemas and wrong types clearly", async () => {
    const sys = await n(["insert", "articles", JSON.stringify({ title: "X", created_at: "2020-01-01" })]);
    expect(sys.error).toMatchObject({ code: "REM_ERR_ENTITY_INVALID", details: { field: "created_at" } });
    const unknown = await n(["insert", "nope", "{}"]);
    expect(unknown.error?.code).toBe("REM_ERR_SCHEMA_NOT_FOUND");
    const missing = await n(["insert", "articles", JSON.stringify({ category: "x" })]);
    expect(missing.error).toMatchObject({ code: "REM_ERR_ENTITY_INVALID", details: { path: "title" } });
    const badSchema = join(root.path, "bad.json");
    await writeFile(badSchema, JSON.stringify({ name: "bad", type: "object", properties: { id: { type: "string" } } }));
    expect((await n(["schema", "add", badSchema])).error).toMatchObject({ code: "REM_ERR_SCHEMA_INVALID", details: { path: "properties.id" } });
  });

  it("looks entities up by natural key across schemas", async () => {
    const r = await n(["lookup", "Go"]);
    expect(r.json).toMatchObject([{ id: ids.go, title: "Go" }]);
    expect((await n(["lookup", "nothing here"])).json).toEqual([]);
  });

  it("queries with SQL: rows, COUNT, EXPLAIN, cursor pages, clear refusals", async () => {
    const rows = await n(["query", "SELECT title FROM articles WHERE category = 'programming' ORDER BY title"]);
    expect(rows.json, rows.stderr).toEqual([{ title: "Go" }, { title: "Zig" }]);
    expect((await n(["query", "SELECT COUNT(*) FROM articles WHERE category IN ('programming', 'systems')"])).json).toEqual([{ count: 3 }]);
    expect((await n(["query", "EXPLAIN SELECT * FROM articles WHERE category = 'science'"])).json).toMatchObject({ access: "index_eq", index: { field: "category" } });
    expect((await n(["query", "EXPLAIN SELECT * FROM articles WHERE views > 1"])).json).toMatchObject({ access: "scan" });
    const first = (await n(["query", "SELECT title FROM articles ORDER BY title", "--page-size", "2"])).json as { rows: unknown[]; next_cursor: string };
    expect(first.rows).toEqual([{ title: "Cells" }, { title: "Go" }]);
    const second = (await n(["query", "SELECT title FROM articles ORDER BY title", "--page-size", "2", "--cursor", first.next_cursor])).json as { rows: unknown[]; next_cursor: string | null };
    expect(second).toEqual({ rows: [{ title: "Rust" }, { title: "Zig" }], next_cursor: null });
    expect((await n(["query", "SELECT * FROM articles WHERE nope = 1"])).error).toMatchObject({ code: "REM_ERR_QUERY_INVALID", details: { field: "nope" } });
    const join = await n(["query", "SELECT * FROM articles JOIN messages ON articles.id = messages.id"]);
    expect(join.error?.code).toBe("REM_ERR_QUERY_UNSUPPORTED");
    expect(join.error?.message).toMatch(/supports/);
    expect((await n(["query", "SELECT * FROM ghosts"])).error?.code).toBe("REM_ERR_SCHEMA_NOT_FOUND");
  });

  it("adds edges (checking both ends) and traverses them cycle-safely", async () => {
    for (const [s, d, t] of [
      [ids.rust, ids.go, "related"],
      [ids.go, ids.zig, "related"],
      [ids.zig, ids.rust, "related"],
      [ids.cells, ids.rust, "cites"],
    ] as const) {
      const r = await n(["edge", "add", s!, d!, "--type", t, "--props", '{"weight": 1}']);
      expect(r.code, r.stderr).toBe(0);
    }
    const dangling = await n(["edge", "add", ids.rust!, "00000000-0000-4000-8000-000000000000", "--type", "related"]);
    expect(dangling.error?.code).toBe("REM_ERR_NOT_FOUND");
    const out = (await n(["traverse", ids.rust!, "--depth", "5"])).json as { id: string; depth: number; path: string[] }[];
    expect(out.map((x) => [x.id, x.depth])).toEqual([
      [ids.rust, 0],
      [ids.go, 1],
      [ids.zig, 2],
    ]);
    expect(out[2]!.path).toEqual([ids.rust, ids.go, ids.zig]);
    const incoming = (await n(["traverse", ids.rust!, "--direction", "in", "--type", "cites"])).json as { id: string; via: { type: string; direction: string } }[];
    expect(incoming.map((x) => x.id)).toEqual([ids.rust, ids.cells]);
    expect(incoming[1]!.via).toEqual({ type: "cites", direction: "in" });
    const got = (await n(["get", ids.cells!])).json as { edges: unknown[] };
    expect(got.edges).toEqual([{ type: "cites", dst: ids.rust }]);
  });

  it("deletes: a tombstone that leaves lookups and traversals; get says it was deleted", async () => {
    const d = await n(["delete", ids.go!]);
    expect(d.json).toMatchObject({ id: ids.go });
    const got = await n(["get", ids.go!]);
    expect(got.code).toBe(1);
    expect(got.error).toMatchObject({ code: "REM_ERR_NOT_FOUND", details: { deleted: true } });
    expect((await n(["get", ids.go!, "--include-deleted"])).json).toMatchObject({ id: ids.go, deleted_at: expect.any(String) });
    expect((await n(["lookup", "Go"])).json).toEqual([]);
    const out = (await n(["traverse", ids.rust!, "--depth", "5"])).json as { id: string }[];
    expect(out.map((x) => x.id)).toEqual([ids.rust]);
    expect((await n(["delete", ids.go!])).error?.code).toBe("REM_ERR_NOT_FOUND");
  });

  it("rebuild replays the log into the same projections; status reports the checkpoint", async () => {
    const before = await storeDump(join(root.path, "main"));
    const r = await n(["rebuild"]);
    expect(r.json).toMatchObject({ tenant: "default", seq: expect.any(Number), events: expect.any(Number) });
    expect(await storeDump(join(root.path, "main"))).toEqual(before);
    const s = await n(["status"]);
    expect(s.json).toMatchObject({ backend: "file", projection: { lag: 0 } });
  });
});

describe("rem rebuild killed mid-way (SIGKILL) resumes at a commit boundary", () => {
  it("catches up to the same projections after the crash", async () => {
    const n = node("crash");
    await n(["init", "--kdf-cost", "12"]);
    await writeFile(join(root.path, "a.yaml"), ARTICLES);
    await n(["schema", "add", join(root.path, "a.yaml")]);
    const lines = Array.from({ length: 20000 }, (_, i) => JSON.stringify({ title: `t${i}`, category: `c${i % 50}`, views: i, content: "x".repeat(200) })).join("\n");
    const ins = await n(["insert", "articles", "--batch", "--commit-size", "10"], lines);
    expect(ins.code, ins.stderr).toBe(0);
    const head = (ins.json as { seq: number }).seq;
    const expected = await storeDump(join(root.path, "crash"));
    const bin = fileURLToPath(new URL("../../bin/rem.js", import.meta.url));
    // Kill rebuilds at growing delays: some land before the first batch, some mid-way, some after.
    const seen: number[] = [];
    for (const delay of [700, 1100, 1500]) {
      const child = spawn(process.execPath, [bin, "rebuild"], { env: { ...process.env, REM_DATA: join(root.path, "crash"), REM_PASSPHRASE: "entities passphrase" }, stdio: "ignore" });
      const exited = new Promise((r) => child.on("exit", r)); // listen first: it may finish before the kill
      await new Promise((r) => setTimeout(r, delay));
      child.kill("SIGKILL");
      await exited;
      const st = await n(["status"]);
      expect(st.code, st.stderr).toBe(0); // (on failure, says why status could not open the tenant)
      const status = st.json as { projection: { seq: number; lag: number } };
      // Whatever the moment, the store is at a commit boundary of the log.
      expect(status.projection.seq + status.projection.lag).toBe(head);
      seen.push(status.projection.seq);
      // Catching up from there gives exactly the projections a full replay gives.
      expect((await n(["lookup", "t19999"])).json).toMatchObject([{ title: "t19999", views: 19999 }]);
      expect(await storeDump(join(root.path, "crash"))).toEqual(expected);
    }
    console.log(`checkpoints found after SIGKILL: ${seen.join(", ")} of ${head}`);
    // A rebuild drops the store by renaming it aside first (a half-deleted LevelDB directory would
    // not open): what a crash left aside is removed by the next rebuild.
    const storeDir = join(root.path, "crash", "tenants", "default", "projections", "store");
    await mkdir(`${storeDir}.dropping`, { recursive: true });
    await writeFile(join(`${storeDir}.dropping`, "CURRENT"), "MANIFEST-000009\n");
    expect((await n(["rebuild"])).code).toBe(0);
    await expect(stat(`${storeDir}.dropping`)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await storeDump(join(root.path, "crash"))).toEqual(expected);
  }, 180_000);
});

async function storeDump(dataDir: string): Promise<string[]> {
  const store = await ProjectionStore.open(join(dataDir, "tenants", "default", "projections", "store"), { lockWaitMs: 5000 });
  try {
    const out: string[] = [];
    for (const [name, sub] of Object.entries({ e: store.entities, i: store.ids, k: store.keys, x: store.idx, g: store.edges, a: store.adj, s: store.schemas })) {
      for await (const [k, v] of sub.iterator()) out.push(`${name} ${Buffer.from(k).toString("hex")} ${Buffer.from(v).toString("hex")}`);
    }
    return out;
  } finally {
    await store.close();
  }
}
