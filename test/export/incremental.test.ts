import { randomUUID } from "node:crypto";
import { readdir, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { vectorOf } from "../../projections/store/records.js";
import { addEdge, deleteEntity, dropSchema, insertEntities, registerSchema } from "../../src/node/writes.js";
import { executeQuery } from "../../src/query/mod.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";
import { analytics, appendRaw, rejection, sql } from "./helpers.js";

const NOTES: JsonObject = { name: "notes", type: "object", properties: { title: { type: "string" }, n: { type: "integer" } } };
const TASKS: JsonObject = { name: "tasks", type: "object", properties: { title: { type: "string" }, done: { type: "boolean" } } };

describe("the export projection, incrementally", () => {
  let fx: TenantFixture;
  beforeEach(async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, NOTES);
    await registerSchema(fx.tenant, TASKS);
  });
  afterEach(() => fx.close());

  const titles = async (schema: string) => (await sql(fx, `SELECT title FROM ${schema} ORDER BY title`)).map((r) => r.title);
  const manifest = async () => (await analytics(fx).exports.manifest())!;

  it("writes deltas for what changed, and reflects updates, deletes and re-creations", async () => {
    const [a, b] = (await insertEntities(fx.tenant, "notes", [{ id: randomUUID(), title: "a", n: 1 }, { id: randomUUID(), title: "b", n: 2 }])).ids as [string, string];
    expect(await titles("notes")).toEqual(["a", "b"]);
    expect((await analytics(fx).catchUp()).mode).toBe("none");

    await insertEntities(fx.tenant, "notes", [{ id: a, title: "a2", n: 10 }]);
    await deleteEntity(fx.tenant, b);
    await insertEntities(fx.tenant, "notes", [{ title: "c", n: 3 }]);
    const report = await analytics(fx).catchUp();
    expect(report).toMatchObject({ mode: "incremental", changed: 3, rewritten: [] });
    expect(await titles("notes")).toEqual(["a2", "c"]);
    const m = await manifest();
    expect(m.schemas.notes!.deltas).toHaveLength(1);
    expect(m.schemas.notes!.deltas[0]!.rows).toBe(3); // a2, the tombstone of b, c
    expect(m.watermark.seq).toBe(fx.tenant.store.checkpoint!.seq);

    // Re-created after its delete: back, with a new created_at.
    const created = fx.tenant.store.getEntity(a)!.created_at;
    await insertEntities(fx.tenant, "notes", [{ id: b, title: "b again", n: 4 }]);
    const [row] = await sql(fx, `SELECT title, created_at, modified_at FROM notes WHERE id = '${b}'`);
    expect(row).toEqual({ title: "b again", created_at: new Date(fx.tenant.store.getEntity(b)!.created_at).toISOString(), modified_at: new Date(fx.tenant.store.getEntity(b)!.modified_at).toISOString() });
    expect((await sql(fx, `SELECT created_at FROM notes WHERE id = '${a}'`))[0]!.created_at).toBe(new Date(created).toISOString());
  });

  it("moves an entity whose id is reused in another schema", async () => {
    const id = randomUUID();
    await insertEntities(fx.tenant, "notes", [{ id, title: "was a note" }]);
    expect(await titles("notes")).toEqual(["was a note"]);
    await insertEntities(fx.tenant, "tasks", [{ id, title: "now a task", done: false }]);
    expect(await titles("notes")).toEqual([]);
    expect(await titles("tasks")).toEqual(["now a task"]);
    // …and back, with a rebuild giving the same answer.
    await insertEntities(fx.tenant, "notes", [{ id, title: "a note again" }]);
    expect(await titles("notes")).toEqual(["a note again"]);
    expect(await titles("tasks")).toEqual([]);
    await analytics(fx).catchUp({ rebuild: true });
    expect(await titles("notes")).toEqual(["a note again"]);
    expect(await titles("tasks")).toEqual([]);
  });

  it("adds a column when the schema gains a field, and removes a dropped schema's export", async () => {
    await insertEntities(fx.tenant, "tasks", [{ title: "old", done: true }]);
    expect(await titles("tasks")).toEqual(["old"]);
    await registerSchema(fx.tenant, { ...TASKS, properties: { ...(TASKS.properties as JsonObject), priority: { type: "integer" } } });
    await insertEntities(fx.tenant, "tasks", [{ title: "new", done: false, priority: 2 }]);
    expect(await sql(fx, "SELECT title, priority FROM tasks ORDER BY title")).toEqual([
      { title: "new", priority: 2 },
      { title: "old", priority: null },
    ]);
    expect((await analytics(fx).catchUp()).mode).toBe("none");

    await dropSchema(fx.tenant, "tasks");
    await analytics(fx).catchUp();
    expect(Object.keys((await manifest()).schemas)).toEqual(["notes"]);
    expect(await readdir(analytics(fx).exports.dir)).not.toContain("tasks");
    expect((await rejection(analytics(fx).sql("SELECT * FROM tasks"), "REM_ERR_SQL_INVALID")).message).toMatch(/tasks/);

    // Registered again: an empty view with the new definition's columns, not the old rows.
    await registerSchema(fx.tenant, TASKS);
    expect(await sql(fx, "SELECT count(*) AS n FROM tasks")).toEqual([{ n: 0 }]);
  });

  it("compacts deltas into one base file with the same results", async () => {
    const ids = (await insertEntities(fx.tenant, "notes", Array.from({ length: 20 }, (_, i) => ({ title: `n${i}`, n: i })))).ids;
    await analytics(fx).catchUp();
    for (let round = 0; round < 10; round++) {
      await insertEntities(fx.tenant, "notes", [{ id: ids[round]!, title: `n${round}`, n: 100 + round }]);
      if (round % 3 === 0) await deleteEntity(fx.tenant, ids[19 - round]!);
      await analytics(fx).catchUp();
    }
    const m = await manifest();
    expect(m.schemas.notes!.deltas.length).toBeLessThanOrEqual(8);
    const before = await sql(fx, "SELECT * FROM notes ORDER BY id");
    const r = await analytics(fx).catchUp({ compact: true });
    expect(r.compacted).toEqual(m.schemas.notes!.deltas.length > 0 ? ["notes"] : []);
    const after = await manifest();
    expect(after.schemas.notes).toMatchObject({ deltas: [], base: [{ rows: 16 }] });
    expect(await sql(fx, "SELECT * FROM notes ORDER BY id")).toEqual(before);
    // The files on disk are exactly the manifest's.
    expect((await readdir(join(analytics(fx).exports.dir, "notes"))).map((f) => `notes/${f}`).sort()).toEqual([...after.schemas.notes!.base, ...after.schemas.notes!.deltas].map((f) => f.file).sort());
  });

  it("ignores and deletes files no manifest lists (an interrupted run's leftovers)", async () => {
    await insertEntities(fx.tenant, "notes", [{ title: "real" }]);
    await analytics(fx).catchUp();
    const dir = analytics(fx).exports.dir;
    // What a crash between publishing a file and writing the manifest leaves behind.
    const stray = (await readdir(join(dir, "notes"))).map((f) => join(dir, "notes", f))[0]!;
    await writeFile(join(dir, "notes", "g99-delta-0000.parquet"), await import("node:fs/promises").then((fs) => fs.readFile(stray)));
    await mkdir(join(dir, ".tmp"), { recursive: true });
    await writeFile(join(dir, ".tmp", "half-written.parquet"), "garbage");
    expect(await titles("notes")).toEqual(["real"]); // the stray copy is not read
    await insertEntities(fx.tenant, "notes", [{ title: "more" }]);
    await analytics(fx).catchUp();
    expect(await readdir(join(dir, "notes"))).not.toContain("g99-delta-0000.parquet");
    expect(await readdir(dir)).not.toContain(".tmp");
    expect(await titles("notes")).toEqual(["more", "real"]);
  });

  it("rewrites a schema instead of writing a delta bigger than a quarter of it", async () => {
    await insertEntities(fx.tenant, "notes", Array.from({ length: 40 }, (_, i) => ({ title: `t${i}` })));
    await analytics(fx).catchUp();
    await insertEntities(fx.tenant, "notes", Array.from({ length: 15_000 }, (_, i) => ({ title: `u${i}` })), { perCommit: 5000 });
    const r = await analytics(fx).catchUp();
    expect(r.rewritten).toEqual(["notes"]);
    expect((await manifest()).schemas.notes!.deltas).toEqual([]);
    expect(await sql(fx, "SELECT count(*) AS n FROM notes")).toEqual([{ n: 15_040 }]);
    const q = await executeQuery(fx.tenant.store, "SELECT COUNT(*) FROM notes");
    expect(q.count).toBe(15_040);
  });

  it("moves only the watermark for commits that change no exported row", async () => {
    const [a] = (await insertEntities(fx.tenant, "notes", [{ title: "a" }, { title: "b" }])).ids as [string, string];
    await analytics(fx).catchUp();
    const before = await manifest();
    // An embedding, while the export leaves vectors out: no entity row and no edge changes.
    await appendRaw(fx.tenant, [{ type: "embedding.recorded", v: 1, id: randomUUID(), entity_id: a, schema: "notes", field: "title", model: "test", dim: 2, vector: Float32Array.from([0.6, 0.8]), text_hash: "0".repeat(32) }]);
    const r = await analytics(fx).catchUp();
    expect(r).toMatchObject({ mode: "incremental", changed: 0, commits: 1, rewritten: [] });
    const after = await manifest();
    expect(after.generation).toBe(before.generation);
    expect(after.schemas).toEqual(before.schemas);
    expect(after.edges).toEqual(before.edges);
    expect(after.watermark.seq).toBe(fx.tenant.store.checkpoint!.seq);
    expect(after.watermark.seq).toBeGreaterThan(before.watermark.seq);
  });

  it("rewrites only the edges table for commits that change only edges", async () => {
    const [a, b] = (await insertEntities(fx.tenant, "notes", [{ title: "a" }, { title: "b" }])).ids as [string, string];
    await analytics(fx).catchUp();
    const before = await manifest();
    await addEdge(fx.tenant, a, b, "links");
    const r = await analytics(fx).catchUp();
    expect(r).toMatchObject({ mode: "incremental", changed: 0, commits: 1, rewritten: [] });
    const after = await manifest();
    expect(after.schemas).toEqual(before.schemas);
    expect(after.edges).not.toEqual(before.edges);
    expect(after.edges!.files.reduce((n, f) => n + f.rows, 0)).toBe(1);
    expect(after.watermark.seq).toBe(fx.tenant.store.checkpoint!.seq);
  });

  it("starts over when the projection store is rebuilt", async () => {
    await insertEntities(fx.tenant, "notes", [{ title: "x" }]);
    await analytics(fx).catchUp();
    const gen = (await manifest()).generation;
    await fx.tenant.rebuild();
    const r = await analytics(fx).catchUp();
    expect(r.mode).toBe("full");
    expect((await manifest()).generation).toBe(gen + 1);
    expect(await titles("notes")).toEqual(["x"]);
  });
});

describe("embeddings in the export", () => {
  it("exports each embedded field's vector as FLOAT[] when asked, and keeps the choice", async () => {
    const fx = await tenantFixture();
    try {
      await registerSchema(fx.tenant, { name: "docs", type: "object", properties: { content: { type: "string" } }, embedding_fields: ["content"] });
      const [id] = (await insertEntities(fx.tenant, "docs", [{ content: "hello vectors" }])).ids;
      await analytics(fx).catchUp({ embeddings: true });
      const [row] = await sql(fx, `SELECT content_embedding AS v FROM docs WHERE id = '${id}'`);
      const stored = vectorOf(fx.tenant.store.getVector("docs", "content", id!)!);
      expect(row!.v).toEqual(Array.from(stored));
      await insertEntities(fx.tenant, "docs", [{ content: "more" }]);
      expect(await sql(fx, "SELECT count(content_embedding) AS n FROM docs")).toEqual([{ n: 2 }]);
      await analytics(fx).catchUp({ embeddings: false });
      expect((await sql(fx, "SELECT column_name FROM (DESCRIBE docs)")).map((r) => r.column_name)).not.toContain("content_embedding");
    } finally {
      await fx.close();
    }
  });
});
