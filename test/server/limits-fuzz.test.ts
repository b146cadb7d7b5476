import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverFixture, type ServerFixture } from "../support/server-fixture.js";

const NOTES = { title: "notes", type: "object", properties: { text: { type: "string" }, n: { type: "integer" } }, json_schema_extra: { name: "notes", indexed_fields: ["n"], embedding_fields: ["text"] } };

describe("limits and hostile input", () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture({ bodyLimit: 64 * 1024, rateLimitPerSecond: 0 });
    expect((await fx.call("POST", "/api/v1/schemas", { body: NOTES })).status).toBe(201);
  });
  afterAll(async () => fx?.close());

  it("a body over the limit is 413; the wrong media type is 415; broken JSON is 400 — all problem+json", async () => {
    const big = await fx.call("POST", "/api/v1/entities/notes", { body: { text: "x".repeat(100 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.contentType).toContain("application/problem+json");
    expect(big.json.code).toBe("REM_ERR_PAYLOAD_TOO_LARGE");
    const xml = await fx.call("POST", "/api/v1/entities/notes", { raw: "<note/>", headers: { "content-type": "application/xml" } });
    expect(xml.status).toBe(415);
    expect(xml.json.code).toBe("REM_ERR_UNSUPPORTED_MEDIA_TYPE");
    const broken = await fx.call("POST", "/api/v1/entities/notes", { raw: '{"text": ', headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.json.code).toBe("REM_ERR_INVALID_ARGUMENT");
    const proto = await fx.call("POST", "/api/v1/entities/notes", { raw: '{"text": "a", "__proto__": {"admin": true}}', headers: { "content-type": "application/json" } });
    expect(proto.status).toBe(400);
  });

  it("path parameters cannot reach files or other tenants", async () => {
    for (const p of ["/api/v1/schemas/..%2F..%2Fkeys", "/api/v1/entities/..%2F..%2Fetc%2Fpasswd", "/api/v1/traverse/%00", "/api/v1/schemas/%2E%2E"]) {
      const r = await fx.call("GET", p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
    }
    // A key is only ever a key in the tenant's key index: a path-like one finds nothing.
    const r = await fx.call("GET", "/api/v1/lookup/..%2F..%2Fauth%2Ftokens.json");
    expect(r.status).toBe(200);
    expect(r.json).toEqual([]);
  });

  it("the per-tenant rate limit answers 429 with Retry-After, and other tenants are not throttled", async () => {
    const limited = await serverFixture({ rateLimitPerSecond: 5, tenants: ["acme", "beta"] });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await limited.call("GET", "/api/v1/schemas")).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const over = await limited.call("GET", "/api/v1/schemas");
      expect(over.status).toBe(429);
      expect(over.json.code).toBe("REM_ERR_RATE_LIMITED");
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await limited.call("GET", "/api/v1/schemas", { tenant: "beta" })).status).toBe(200);
      expect((await limited.call("GET", "/health", { token: null, tenant: null })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  // Random bodies, query strings and headers on every route: a client can get any 4xx, never a 5xx.
  const ROUTES: [string, string][] = [
    ["POST", "/api/v1/events"],
    ["GET", "/api/v1/events"],
    ["POST", "/api/v1/schemas"],
    ["GET", "/api/v1/schemas/notes"],
    ["POST", "/api/v1/entities/notes"],
    ["GET", "/api/v1/entities/00000000-0000-0000-0000-000000000000"],
    ["DELETE", "/api/v1/entities/abc"],
    ["GET", "/api/v1/lookup/k"],
    ["POST", "/api/v1/query"],
    ["POST", "/api/v1/search"],
    ["GET", "/api/v1/resources"],
    ["GET", "/api/v1/moments"],
    ["POST", "/api/v1/edges"],
    ["GET", "/api/v1/traverse/abc"],
    ["POST", "/api/v1/tenants"],
    ["POST", "/api/v1/tokens"],
  ];
  const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom(null, true, false, 0, -1, 1e308, "", "notes", "SELECT * FROM notes", "entity.upserted", "../../etc", "'; DROP --", "\u0000"),
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom("events", "type", "schema", "sql", "query", "src", "dst", "text", "n", "data", "entity_id", "expected_seq", "top_k", "where", "name", "definition", "tenant", "id", "vector"), tie("value"), { maxKeys: 5 }),
    ),
  })).value;
  const query = fc.dictionary(fc.constantFrom("from", "limit", "min_seq", "query", "top_k", "depth", "direction", "type", "cursor", "embed", "to", "moment_type"), fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom("-1", "1e9", "NaN", "%", "")), { maxKeys: 3 });

  it("fuzzed bodies, queries and headers get 4xx, never 5xx (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        jsonish,
        query,
        fc.option(fc.constantFrom("acme", "ACME", "a.b", "", "x".repeat(80), "beta", "*"), { nil: undefined }),
        fc.option(fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1", "multipart/form-data"), { nil: undefined }),
        async ([method, path], body, q, tenant, contentType) => {
          const qs = new URLSearchParams(q as Record<string, string>).toString();
          const r = await fx.call(method, path + (qs === "" ? "" : `?${qs}`), {
            tenant: tenant ?? "acme",
            raw: method === "GET" || method === "DELETE" ? undefined : JSON.stringify(body),
            headers: contentType === undefined || method === "GET" || method === "DELETE" ? {} : { "content-type": contentType },
          });
          if (r.status >= 500) throw new Error(`${method} ${path}?${qs} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
          if (r.status >= 400) expect(r.contentType).toContain("application/problem+json");
        },
      ),
      { numRuns: 1000 },
    );
    // The server is still healthy and the data consistent after the barrage.
    expect((await fx.call("GET", "/ready", { token: null, tenant: null })).status).toBe(200);
    expect((await fx.call("POST", "/api/v1/query", { body: { sql: "SELECT COUNT(*) FROM notes" } })).status).toBe(200);
  });
});
