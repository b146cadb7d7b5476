import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverFixture, type ServerFixture } from "../support/server-fixture.js";

const ARTICLES = {
  title: "articles",
  type: "object",
  properties: { title: { type: "string" }, category: { type: "string" }, body: { type: "string" }, rank: { type: "integer" } },
  required: ["title"],
  json_schema_extra: { name: "articles", key_field: "title", indexed_fields: ["category", "rank"], embedding_fields: ["body"] },
};

describe("HTTP routes (embedded log)", () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => fx?.close());

  it("health, readiness and the OpenAPI document need no token", async () => {
    expect((await fx.call("GET", "/health", { token: null, tenant: null })).json).toEqual({ status: "ok" });
    const ready = await fx.call("GET", "/ready", { token: null, tenant: null });
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: "ready", backend: "file", problems: [] });
    const doc = await fx.call("GET", "/docs/json", { token: null, tenant: null });
    expect(doc.json.openapi).toMatch(/^3\./);
    for (const p of ["/api/v1/events", "/api/v1/schemas", "/api/v1/schemas/{name}", "/api/v1/entities/{schema}", "/api/v1/entities/{id}", "/api/v1/lookup/{key}", "/api/v1/query", "/api/v1/search", "/api/v1/resources", "/api/v1/moments", "/api/v1/edges", "/api/v1/traverse/{id}"]) {
      expect(doc.json.paths, p).toHaveProperty([p]);
    }
    // The request schemas come from the zod route schemas.
    expect(JSON.stringify(doc.json.paths["/api/v1/search"].post.requestBody)).toContain("top_k");
  });

  it("schemas: register (201), unchanged (200), list, show, 404 for an unknown one", async () => {
    const r = await fx.call("POST", "/api/v1/schemas", { body: ARTICLES });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: "articles", outcome: "registered" });
    expect(Number(r.headers.get("x-rem-seq"))).toBe(r.json.seq);
    const again = await fx.call("POST", "/api/v1/schemas", { body: ARTICLES });
    expect(again.status).toBe(200);
    expect(again.json.outcome).toBe("unchanged");
    const list = await fx.call("GET", "/api/v1/schemas");
    expect(list.json.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(["articles", "sessions", "messages", "moments"]));
    const show = await fx.call("GET", "/api/v1/schemas/articles");
    expect(show.json.json_schema_extra.key_field).toBe("title");
    const missing = await fx.call("GET", "/api/v1/schemas/nope");
    expect(missing.status).toBe(404);
    expect(missing.contentType).toContain("application/problem+json");
    expect(missing.json.code).toBe("REM_ERR_SCHEMA_NOT_FOUND");
  });

  it("entities: insert one and many (201 {ids, seq}), get, lookup, query, delete", async () => {
    const one = await fx.call("POST", "/api/v1/entities/articles", { body: { title: "Event sourcing", category: "db", body: "the log is the source of truth", rank: 1 } });
    expect(one.status).toBe(201);
    expect(one.json.ids).toHaveLength(1);
    expect(one.json.seq).toBeGreaterThan(0);
    const many = await fx.call("POST", "/api/v1/entities/articles", {
      body: [
        { title: "HNSW", category: "search", body: "graphs of neighbours for vector search", rank: 2 },
        { title: "LevelDB", category: "db", body: "an ordered key value store", rank: 3 },
      ],
    });
    expect(many.status).toBe(201);
    expect(many.json.ids).toHaveLength(2);
    expect(many.json.seq).toBeGreaterThan(one.json.seq);

    const got = await fx.call("GET", `/api/v1/entities/${one.json.ids[0]}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: one.json.ids[0], entity_type: "articles", title: "Event sourcing", deleted_at: null });
    expect(Number(got.headers.get("x-rem-seq"))).toBeGreaterThanOrEqual(many.json.seq);

    const looked = await fx.call("GET", `/api/v1/lookup/${encodeURIComponent("LevelDB")}`);
    expect(looked.json.map((e: { id: string }) => e.id)).toEqual([many.json.ids[1]]);

    const q = await fx.call("POST", "/api/v1/query", { body: { sql: "SELECT title FROM articles WHERE category = 'db' ORDER BY rank" } });
    expect(q.status).toBe(200);
    expect(q.json.rows).toEqual([{ title: "Event sourcing" }, { title: "LevelDB" }]);
    expect(q.json.plan).toBeDefined();
    const count = await fx.call("POST", "/api/v1/query", { body: { sql: "SELECT COUNT(*) FROM articles" } });
    expect(count.json.count).toBe(3);

    const del = await fx.call("DELETE", `/api/v1/entities/${many.json.ids[1]}`);
    expect(del.status).toBe(200);
    const gone = await fx.call("GET", `/api/v1/entities/${many.json.ids[1]}`);
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe("REM_ERR_NOT_FOUND");
  });

  it("an entity that does not fit its schema is 422 with the failing path, and nothing is written", async () => {
    const before = await fx.call("GET", "/api/v1/events?from=1&limit=1");
    const r = await fx.call("POST", "/api/v1/entities/articles", { body: [{ title: "ok" }, { title: 7 }] });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("REM_ERR_ENTITY_INVALID");
    expect(r.json.detail).toContain("[1]");
    const after = await fx.call("GET", "/api/v1/events?from=1&limit=1");
    expect(after.json.head).toBe(before.json.head);
  });

  it("search and SEARCH in SQL find what was inserted at once (read-your-writes), /resources searches resources", async () => {
    const s = await fx.call("POST", "/api/v1/search", { body: { query: "vector search graphs", schema: "articles", top_k: 2 } });
    expect(s.status).toBe(200);
    expect(s.json.hits[0].entity.title).toBe("HNSW");
    expect(s.json.plan.strategy).toMatch(/exact|hnsw/);
    const filtered = await fx.call("POST", "/api/v1/search", { body: { query: "vector search graphs", schema: "articles", where: "category = 'db'" } });
    expect(filtered.json.hits.every((h: { entity: { category: string } }) => h.entity.category === "db")).toBe(true);
    const sql = await fx.call("POST", "/api/v1/query", { body: { sql: "SEARCH articles 'source of truth' LIMIT 1" } });
    expect(sql.json.rows[0].entity.title).toBe("Event sourcing");

    const noResources = await fx.call("GET", "/api/v1/resources?query=anything");
    expect(noResources.status).toBe(404);
    expect(noResources.json.code).toBe("REM_ERR_SCHEMA_NOT_FOUND");
    const schema = { title: "resources", type: "object", properties: { content: { type: "string" }, uri: { type: "string" } }, required: ["content"], json_schema_extra: { name: "resources", key_field: "uri", embedding_fields: ["content"] } };
    expect((await fx.call("POST", "/api/v1/schemas", { body: schema })).status).toBe(201);
    await fx.call("POST", "/api/v1/entities/resources", { body: [{ uri: "doc://a", content: "agents remember conversations" }, { uri: "doc://b", content: "bread recipes with sourdough" }] });
    const res = await fx.call("GET", "/api/v1/resources?query=remember%20conversations&top_k=1");
    expect(res.json).toHaveLength(1);
    expect(res.json[0].entity.uri).toBe("doc://a");
  });

  it("moments: newest first, within a time range, by type, paged", async () => {
    const times = ["2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z", "2026-01-04T10:00:00Z"];
    const ins = await fx.call("POST", "/api/v1/entities/moments", { body: times.map((t, i) => ({ name: `m${i}`, start_time: t, moment_type: i % 2 === 0 ? "planning" : "communication" })) });
    expect(ins.status).toBe(201);
    const all = await fx.call("GET", "/api/v1/moments");
    expect(all.json.moments.map((m: { name: string }) => m.name)).toEqual(["m3", "m2", "m1", "m0"]);
    const range = await fx.call("GET", `/api/v1/moments?from=${encodeURIComponent(times[1]!)}&to=${encodeURIComponent(times[2]!)}`);
    expect(range.json.moments.map((m: { name: string }) => m.name)).toEqual(["m2", "m1"]);
    const typed = await fx.call("GET", "/api/v1/moments?moment_type=planning");
    expect(typed.json.moments.map((m: { name: string }) => m.name)).toEqual(["m2", "m0"]);
    const page1 = await fx.call("GET", "/api/v1/moments?limit=3");
    expect(page1.json.moments).toHaveLength(3);
    expect(page1.json.next_cursor).toEqual(expect.any(String));
    const page2 = await fx.call("GET", `/api/v1/moments?limit=3&cursor=${encodeURIComponent(page1.json.next_cursor)}`);
    expect(page2.json.moments.map((m: { name: string }) => m.name)).toEqual(["m0"]);
    const bad = await fx.call("GET", "/api/v1/moments?from=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("REM_ERR_INVALID_ARGUMENT");
    expect(bad.json.detail).toContain("from");
  });

  it("edges and traversal: depth, direction, type; edges to a missing entity are refused", async () => {
    const ins = await fx.call("POST", "/api/v1/entities/articles", { body: [{ title: "A" }, { title: "B" }, { title: "C" }] });
    const [a, b, c] = ins.json.ids as string[];
    expect((await fx.call("POST", "/api/v1/edges", { body: { src: a, dst: b, type: "cites", props: { w: 1 } } })).status).toBe(201);
    expect((await fx.call("POST", "/api/v1/edges", { body: { src: b, dst: c, type: "cites" } })).status).toBe(201);
    expect((await fx.call("POST", "/api/v1/edges", { body: { src: c, dst: a, type: "related" } })).status).toBe(201);
    const t1 = await fx.call("GET", `/api/v1/traverse/${a}?depth=1`);
    expect(t1.json.map((n: { id: string }) => n.id)).toEqual([a, b]);
    const t2 = await fx.call("GET", `/api/v1/traverse/${a}?depth=3&type=cites`);
    expect(t2.json.map((n: { id: string; depth: number }) => [n.id, n.depth])).toEqual([[a, 0], [b, 1], [c, 2]]);
    const back = await fx.call("GET", `/api/v1/traverse/${a}?depth=1&direction=in`);
    expect(back.json.map((n: { id: string }) => n.id)).toEqual([a, c]);
    const got = await fx.call("GET", `/api/v1/entities/${a}`);
    expect(got.json.edges).toEqual([expect.objectContaining({ dst: b, type: "cites" })]);
    const removed = await fx.call("POST", "/api/v1/edges", { body: { src: a, dst: b, type: "cites", remove: true } });
    expect(removed.status).toBe(200);
    expect((await fx.call("GET", `/api/v1/traverse/${a}?depth=2&type=cites`)).json).toHaveLength(1);
    const dangling = await fx.call("POST", "/api/v1/edges", { body: { src: a, dst: randomUUID(), type: "cites" } });
    expect(dangling.status).toBe(404);
    const badDir = await fx.call("GET", `/api/v1/traverse/${a}?direction=sideways`);
    expect(badDir.status).toBe(400);
  });

  it("min_seq: a read waits for the commit it names; one past the log's end is refused", async () => {
    const w = await fx.call("POST", "/api/v1/entities/articles", { body: { title: "waited for" } });
    const r = await fx.call("GET", `/api/v1/entities/${w.json.ids[0]}?min_seq=${w.json.seq}`);
    expect(r.status).toBe(200);
    const far = await fx.call("GET", "/api/v1/schemas?min_seq=1000000");
    expect(far.status).toBe(400);
    expect(far.json.detail).toContain("past the end");
  });

  it("admin routes: create a tenant, list tenants, issue, list and revoke tokens; metrics", async () => {
    const created = await fx.call("POST", "/api/v1/tenants", { tenant: null, body: { name: "beta" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ tenant: "beta", created: true });
    expect((await fx.call("POST", "/api/v1/tenants", { tenant: null, body: { name: "beta" } })).status).toBe(200);
    const badName = await fx.call("POST", "/api/v1/tenants", { tenant: null, body: { name: "../etc" } });
    expect(badName.status).toBe(400);
    expect(badName.json.code).toBe("REM_ERR_TENANT_INVALID");
    const tenants = await fx.call("GET", "/api/v1/tenants", { tenant: null });
    expect(tenants.json.map((t: { name: string }) => t.name)).toEqual(["acme", "beta"]);

    const tok = await fx.call("POST", "/api/v1/tokens", { tenant: null, body: { tenant: "beta", read_only: true, label: "dashboards" } });
    expect(tok.status).toBe(201);
    expect(tok.json.token).toMatch(/^rem_/);
    const listed = await fx.call("GET", "/api/v1/tokens", { tenant: null });
    expect(listed.json).toEqual(expect.arrayContaining([expect.objectContaining({ id: tok.json.id, tenant: "beta", read_only: true, label: "dashboards" })]));
    expect(listed.text).not.toContain(tok.json.token);
    expect((await fx.call("GET", "/api/v1/schemas", { token: tok.json.token, tenant: "beta" })).status).toBe(200);
    expect((await fx.call("DELETE", `/api/v1/tokens/${tok.json.id}`, { tenant: null })).status).toBe(200);
    expect((await fx.call("GET", "/api/v1/schemas", { token: tok.json.token, tenant: "beta" })).status).toBe(401);

    const metrics = await fx.call("GET", "/metrics", { tenant: null });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/rem_http_requests_total\{method="POST",route="\/api\/v1\/entities\/:schema",status="201"\} \d+/);
    expect(metrics.text).toContain("rem_http_request_duration_seconds_bucket");
    expect(metrics.text).toMatch(/rem_appended_events_total\{tenant="acme"\} \d+/);
    expect(metrics.text).toContain("rem_open_tenants");
  });

  it("an unknown route and an uninitialised tenant are 404 problems", async () => {
    const r = await fx.call("GET", "/api/v1/nothing");
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ code: "REM_ERR_NOT_FOUND", status: 404 });
    const t = await fx.call("GET", "/api/v1/schemas", { tenant: "ghost" });
    expect(t.status).toBe(404);
    expect(t.json.code).toBe("REM_ERR_NOT_INITIALIZED");
  });
});
