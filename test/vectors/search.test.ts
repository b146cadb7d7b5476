import { readdir, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RemError, isRemError } from "../../src/errors.js";
import type { EmbeddingProvider } from "../../src/embeddings/provider.js";
import { embedPending } from "../../src/node/embedding-worker.js";
import { insertEntities, registerSchema, deleteEntity } from "../../src/node/writes.js";
import { searchEntities } from "../../src/query/search.js";
import { executeQuery } from "../../src/query/mod.js";
import { countingProvider } from "../support/counting-provider.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";

/**
 * A deterministic "clustered" provider: a text `c<k> …` lands near cluster k's
 * centre; the rest of the text adds seeded noise. It stands in for a model so
 * recall can be measured against brute force on clustered data.
 */
function clusterProvider(dim = 32, clusters = 40): EmbeddingProvider {
  const centre = (k: number) => Float32Array.from({ length: dim }, (_, i) => Math.sin((k + 1) * (i + 1) * 12.9898) * 43758.5453 % 1);
  const noise = (text: string) => {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    return Float32Array.from({ length: dim }, (_, i) => (((Math.imul(h, i + 7) >>> 0) % 1000) / 1000 - 0.5) * 0.35);
  };
  return {
    name: "test:cluster",
    model: "cluster",
    dim,
    async embed(texts) {
      return texts.map((t) => {
        const k = Number(/^c(\d+)/.exec(t)?.[1] ?? 0) % clusters;
        const c = centre(k);
        const n = noise(t);
        return c.map((x, i) => x + n[i]!);
      });
    },
  };
}

const DOCS = {
  name: "docs",
  type: "object",
  properties: { title: { type: "string" }, body: { type: "string" }, tier: { type: "integer" }, tag: { type: "string" } },
  required: ["title"],
  key_field: "title",
  indexed_fields: ["tier", "tag"],
  embedding_fields: ["body"],
  embedding_provider: "test:cluster",
};

let fx: TenantFixture;
afterEach(() => fx.close());

async function setup(n: number, provider: EmbeddingProvider = clusterProvider()) {
  fx = await tenantFixture();
  await registerSchema(fx.tenant, DOCS);
  const docs = Array.from({ length: n }, (_, i) => ({ title: `doc ${i}`, body: `c${i % 40} document number ${i}`, tier: i % 100, tag: i % 2 === 0 ? "even" : "odd" }));
  const r = await insertEntities(fx.tenant, "docs", docs, { providers: () => provider });
  return { docs, ids: r.ids, result: r, providers: () => provider };
}

function recall(got: { id: string }[], truth: { id: string }[]): number {
  const t = new Set(truth.map((x) => x.id));
  return got.filter((x) => t.has(x.id)).length / truth.length;
}

describe("semantic search", () => {
  it("finds what brute force finds: recall@10 ≥ 0.95 on clustered data", async () => {
    const { providers, result } = await setup(4000);
    expect(result.embeddings).toMatchObject({ embedded: 4000, pending: 0 });
    const index = (await fx.tenant.vectors()).index("docs", "body")!;
    expect(index.size).toBe(4000);
    const p = providers();
    let total = 0;
    for (let q = 0; q < 50; q++) {
      const [v] = await p.embed([`c${q % 40} query ${q}`]);
      const r = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 10 }, providers);
      expect(r.plan.strategy).toBe("hnsw");
      total += recall(r.hits, index.exactAll(v!, 10));
    }
    expect(total / 50).toBeGreaterThanOrEqual(0.95);
  });

  it("filters: only matching entities, exact (recall 1.0) at 1% selectivity, filtered HNSW above the switch", async () => {
    const { providers } = await setup(3000);
    const index = (await fx.tenant.vectors()).index("docs", "body")!;
    const [v] = await providers().embed(["c7 something"]);
    const r = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 10, where: "tier = 7" }, providers);
    expect(r.plan).toMatchObject({ strategy: "exact", candidates: 30 });
    expect(r.hits.every((h) => h.entity.tier === 7)).toBe(true);
    const tier7 = (await executeQuery(fx.tenant.store, "SELECT id FROM docs WHERE tier = 7")).rows.map((row) => row.id as string);
    expect(tier7).toHaveLength(30);
    expect(recall(r.hits, index.exact(v!, tier7, 10))).toBe(1);
    // Above the switch the filter runs inside the HNSW walk; results still only match it.
    const wide = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 10, where: "tag = 'even'", exactLimit: 100 }, providers);
    expect(wide.plan.strategy).toBe("hnsw_filtered");
    expect(wide.hits).toHaveLength(10);
    expect(wide.hits.every((h) => h.entity.tag === "even")).toBe(true);
    const evens = (await executeQuery(fx.tenant.store, "SELECT id FROM docs WHERE tag = 'even'")).rows.map((row) => row.id as string);
    expect(recall(wide.hits, index.exact(v!, evens, 10))).toBeGreaterThanOrEqual(0.9);
    // A predicate the engine refuses is an error, not an empty result.
    const bad = await searchEntities(fx.tenant, { schema: "docs", vector: v!, where: "nope = 1" }, providers).catch((e: unknown) => e);
    expect(isRemError(bad, "REM_ERR_QUERY_INVALID")).toBe(true);
  });

  it("ranks a large equality filter with the int8 kernel, giving the float32 answer through updates, new members and deletes", async () => {
    const { providers } = await setup(3000);
    const [v] = await providers().embed(["c7 something"]);
    const index = (await fx.tenant.vectors()).index("docs", "body")!;
    await (await fx.tenant.vectors()).postings.idle(); // blocks are keyed by posting lists: wait for them to be built
    const check = async () => {
      const r = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 10, where: "tag = 'even'" }, providers);
      expect(r.plan.strategy).toBe("exact");
      expect(r.plan.exact?.kernel).toBe(true);
      expect(r.plan.exact!.rescored).toBeLessThan(r.plan.candidates!);
      const evens = (await executeQuery(fx.tenant.store, "SELECT id FROM docs WHERE tag = 'even'", { pageSize: 5000 })).rows.map((row) => row.id as string);
      expect(r.hits.map((h) => [h.id, h.score])).toEqual(index.exact(v!, evens, 10).map((h) => [h.id, h.score])); // every row in float32
      return r;
    };
    const first = await check();
    // The best even hit moves to another cluster: its row changes under the block.
    const top = first.hits[0]!;
    const { title, tier, tag } = top.entity;
    await insertEntities(fx.tenant, "docs", [{ title, tier, tag, body: "c9 moved away" }], { providers });
    const second = await check();
    expect(second.hits.map((h) => h.id)).not.toContain(top.id);
    // A new even entity at the query itself: the set changes, and it wins.
    await insertEntities(fx.tenant, "docs", [{ title: "newcomer", body: "c7 something", tier: 1, tag: "even" }], { providers });
    const third = await check();
    expect(third.hits[0]!.entity.title).toBe("newcomer");
    await deleteEntity(fx.tenant, third.hits[0]!.id);
    const fourth = await check();
    expect(fourth.hits.map((h) => h.entity.title)).not.toContain("newcomer");
  });

  it("an equality or IN filter reads candidate ids from the index alone, agreeing with the SQL engine after updates and deletes", async () => {
    const { ids, providers } = await setup(1000);
    // Move some tier-7 entities out of it, delete others: the index must follow.
    await insertEntities(fx.tenant, "docs", [{ title: "doc 7", body: "c7 document number 7", tier: 8, tag: "odd" }], { providers: () => clusterProvider() });
    await deleteEntity(fx.tenant, ids[107]!);
    const [v] = await providers().embed(["c7 something"]);
    for (const where of ["tier = 7", "tier IN (7, 8, 9)", "tag = 'even'", "tier = 7 AND tag = 'odd'", "tier >= 98"]) {
      const sql = (await executeQuery(fx.tenant.store, `SELECT id FROM docs WHERE ${where}`)).rows.map((row) => row.id as string);
      const r = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 5, where, exactLimit: 1000 }, providers);
      expect(r.plan.candidates, where).toBe(sql.length);
      const allowed = new Set(sql);
      expect(r.hits.every((h) => allowed.has(h.id)), where).toBe(true);
      expect(r.hits.length, where).toBe(Math.min(5, sql.length));
    }
    const tier7 = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 50, where: "tier = 7" }, providers);
    expect(tier7.hits.map((h) => h.id)).not.toContain(ids[7]);
    expect(tier7.hits.map((h) => h.id)).not.toContain(ids[107]);
    expect(tier7.hits).toHaveLength(8);
  });

  it("reflects deletes and updates (an updated text is re-embedded)", async () => {
    const { ids, providers } = await setup(200);
    const [v] = await providers().embed(["c3 document number 3"]);
    const first = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 1 }, providers);
    expect(first.hits[0]!.id).toBe(ids[3]);
    await deleteEntity(fx.tenant, ids[3]!);
    const after = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 5 }, providers);
    expect(after.hits.map((h) => h.id)).not.toContain(ids[3]);
    // doc 5 gets doc 3's old text: now it is the best match.
    const up = await insertEntities(fx.tenant, "docs", [{ title: "doc 5", body: "c3 document number 3", tier: 5, tag: "odd" }], { providers });
    expect(up.embeddings).toMatchObject({ embedded: 1, pending: 0 });
    const moved = await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 1 }, providers);
    expect(moved.hits[0]).toMatchObject({ id: ids[5], entity: { body: "c3 document number 3" } });
    expect(moved.hits[0]!.score).toBeGreaterThan(0.999);
  });

  it("loses nothing when the provider is down: stored, pending, embedded later", async () => {
    const down: EmbeddingProvider = { name: "test:down", model: "x", dim: null, embed: () => Promise.reject(new RemError("REM_ERR_EMBEDDING_PROVIDER", "503 from provider")) };
    fx = await tenantFixture();
    await registerSchema(fx.tenant, DOCS);
    const r = await insertEntities(fx.tenant, "docs", [{ title: "a", body: "c1 alpha" }, { title: "b", body: "c2 beta" }], { providers: () => down });
    expect(r.ids).toHaveLength(2);
    expect(r.embeddings).toMatchObject({ embedded: 0, pending: 2, error: { code: "REM_ERR_EMBEDDING_PROVIDER" } });
    expect(fx.tenant.store.getEntity(r.ids[0]!)?.data.title).toBe("a");
    expect(await fx.tenant.store.pendingCounts()).toEqual({ "docs.body": 2 });
    const later = await embedPending(fx.tenant, { providers: () => clusterProvider() });
    expect(later).toMatchObject({ embedded: 2, pending: 0 });
    expect(later.error).toBeUndefined();
    const [v] = await clusterProvider().embed(["c2 beta"]);
    expect((await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 1 }, () => clusterProvider())).hits[0]!.id).toBe(r.ids[1]);
  });

  it("refuses a provider of another dimension, appending nothing", async () => {
    const { providers } = await setup(20);
    const head = (await fx.tenant.log.head()).seq;
    const small = clusterProvider(16);
    const r = await insertEntities(fx.tenant, "docs", [{ title: "new", body: "c1 new text" }], { providers: () => small });
    expect(r.embeddings?.error?.code).toBe("REM_ERR_EMBEDDING_DIMENSION");
    expect((await fx.tenant.log.head()).seq).toBe(head + 1); // the entity, no embedding
    const q = await searchEntities(fx.tenant, { schema: "docs", text: "c1 query", topK: 3 }, () => small).catch((e: unknown) => e);
    expect(isRemError(q, "REM_ERR_EMBEDDING_DIMENSION")).toBe(true);
    expect((await searchEntities(fx.tenant, { schema: "docs", text: "c1 query", topK: 3 }, providers)).hits).toHaveLength(3);
    const empty = await searchEntities(fx.tenant, { schema: "docs", text: "   " }, providers).catch((e: unknown) => e);
    expect(isRemError(empty, "REM_ERR_EMBEDDING_INVALID")).toBe(true);
  });

  it("searches with the schema's ef_search as it is now: the default, a change, and after a reopen from the snapshot", async () => {
    const { providers } = await setup(200);
    const [v] = await clusterProvider().embed(["c3 probe"]);
    const plan = async () => (await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 5 }, providers)).plan;
    expect(await plan()).toMatchObject({ strategy: "hnsw", ef: 128 }); // DEFAULT_HNSW
    await registerSchema(fx.tenant, { ...DOCS, hnsw: { ef_search: 40 } });
    expect(await plan()).toMatchObject({ strategy: "hnsw", ef: 40 });
    expect((await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 5, ef: 300 }, providers)).plan.ef).toBe(300);
    await fx.tenant.vectors();
    await fx.reopen(); // the snapshot was written with the index's build params
    expect((await fx.tenant.vectors()).openStats.source).toBe("snapshot");
    expect(await plan()).toMatchObject({ strategy: "hnsw", ef: 40 });
    const filtered = (await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 5, where: "tag = 'even'", exactLimit: 10 }, providers)).plan;
    expect(filtered).toMatchObject({ strategy: "hnsw_filtered", ef: 40 });
    expect((await searchEntities(fx.tenant, { schema: "docs", vector: v!, topK: 5, where: "tier = 3" }, providers)).plan).toMatchObject({ strategy: "exact", ef: null });
  });

  it("refuses a snapshot whose vector file is cut short, naming it, instead of loading wrong vectors", async () => {
    await setup(50);
    await fx.tenant.vectors();
    await fx.reopen(); // closing wrote the snapshot
    const root = join(fx.dir, "tenants", "t", "projections", "vectors");
    const file = (await readdir(root, { recursive: true })).find((f) => f.endsWith("vectors.f32"))!;
    await truncate(join(root, file), 100);
    await fx.reopen();
    const err = await fx.tenant.vectors().then(() => null, (e: unknown) => e);
    expect(isRemError(err, "REM_ERR_INTERNAL")).toBe(true);
    expect((err as RemError).message).toMatch(/vectors\.f32 holds 100 bytes, expected 6400/);
  });

  it("snapshot + tail replay equals a full rebuild, and replay never calls the provider", async () => {
    const counting = countingProvider(clusterProvider());
    const { ids } = await setup(600, counting);
    const providers = () => counting;
    expect(counting.texts).toBe(600);
    await fx.tenant.vectors(); // build, then snapshot on close
    await fx.reopen();
    // The tail: changes after the snapshot.
    await insertEntities(fx.tenant, "docs", Array.from({ length: 50 }, (_, i) => ({ title: `late ${i}`, body: `c${i} late ${i}` })), { providers });
    for (const id of ids.slice(0, 40)) await deleteEntity(fx.tenant, id);
    await insertEntities(fx.tenant, "docs", [{ title: "doc 100", body: "c9 rewritten" }], { providers });
    counting.reset();
    await fx.reopen();
    const fromSnapshot = await fx.tenant.vectors();
    expect(fromSnapshot.openStats).toMatchObject({ source: "snapshot", tail: 91 });
    expect(fromSnapshot.pending).toBe(0); // opening builds the graph directly: nothing left for the drain
    const a = fromSnapshot.index("docs", "body")!;
    // A full rebuild: projections dropped, the log replayed, indexes built from the stored vectors.
    await fx.tenant.rebuild();
    const rebuilt = await fx.tenant.vectors();
    expect(rebuilt.openStats.source).toBe("rebuild");
    expect(rebuilt.pending).toBe(0);
    const b = rebuilt.index("docs", "body")!;
    expect(new Set(a.ids())).toEqual(new Set(b.ids()));
    expect(a.size).toBe(610);
    for (let q = 0; q < 10; q++) {
      const [v] = await clusterProvider().embed([`c${q} probe`]);
      expect(a.exactAll(v!, 10)).toEqual(b.exactAll(v!, 10));
    }
    expect(counting.calls).toBe(0);
    // A stale snapshot (of another store) is ignored, not trusted.
    await fx.reopen();
    expect((await fx.tenant.vectors()).openStats.source).toBe("snapshot");
    await rm(join(fx.dir, "tenants", "t", "projections", "vectors"), { recursive: true });
    await fx.reopen();
    expect((await fx.tenant.vectors()).openStats.source).toBe("rebuild");
  });
});
