import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverFixture, type ServerFixture } from "../support/server-fixture.js";

const METRICS = { name: "metrics", type: "object", properties: { host: { type: "string" }, value: { type: "number" } } };

describe("POST /api/v1/sql", () => {
  let fx: ServerFixture;
  let readToken: string;
  beforeAll(async () => {
    fx = await serverFixture({ tenants: ["acme", "other"] });
    expect((await fx.call("POST", "/api/v1/schemas", { body: METRICS })).status).toBe(201);
    const rows = Array.from({ length: 50 }, (_, i) => ({ host: `h${i % 5}`, value: i }));
    expect((await fx.call("POST", "/api/v1/entities/metrics", { body: rows })).status).toBe(201);
    readToken = (await fx.call("POST", "/api/v1/tokens", { tenant: null, body: { tenant: "acme", read_only: true } })).json.token;
  });
  afterAll(() => fx?.close());

  it("answers JSON with columns, rows and the commit the exports reflect", async () => {
    const r = await fx.call("POST", "/api/v1/sql", { token: readToken, body: { sql: "SELECT host, sum(value) AS total, count(*) AS n FROM metrics GROUP BY host ORDER BY host" } });
    expect(r.status).toBe(200);
    expect(r.json.columns).toEqual([
      { name: "host", type: "VARCHAR" },
      { name: "total", type: "DOUBLE" },
      { name: "n", type: "BIGINT" },
    ]);
    expect(r.json.rows).toEqual(Array.from({ length: 5 }, (_, h) => ({ host: `h${h}`, total: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].reduce((s, k) => s + h + 5 * k, 0), n: 10 })));
    expect(r.json).toMatchObject({ row_count: 5, truncated: false });
    expect(r.json.seq).toBeGreaterThan(0);
    expect(Number(r.headers.get("x-rem-seq"))).toBe(r.json.seq);
  });

  it("reads its own writes: a write, then SQL, sees it", async () => {
    const w = await fx.call("POST", "/api/v1/entities/metrics", { body: { host: "fresh", value: 1 } });
    const r = await fx.call("POST", "/api/v1/sql", { body: { sql: "SELECT count(*) AS n FROM metrics WHERE host = 'fresh'" } });
    expect(r.json.rows).toEqual([{ n: 1 }]);
    expect(r.json.seq).toBeGreaterThanOrEqual(w.json.seq);
  });

  it("returns csv and table formats, and cuts at max_rows", async () => {
    const csv = await fx.call("POST", "/api/v1/sql", { body: { sql: "SELECT DISTINCT host FROM metrics WHERE host IN ('h0', 'h1') ORDER BY host", format: "csv" } });
    expect(csv.contentType).toMatch(/^text\/csv/);
    expect(csv.text).toBe("host\r\nh0\r\nh1\r\n");
    const table = await fx.call("POST", "/api/v1/sql", { body: { sql: "SELECT 1 AS one", format: "table" } });
    expect(table.contentType).toMatch(/^text\/plain/);
    expect(table.text).toContain("| one |");
    const cut = await fx.call("POST", "/api/v1/sql", { body: { sql: "SELECT * FROM metrics", max_rows: 7 } });
    expect(cut.json).toMatchObject({ row_count: 7, truncated: true });
  });

  it("refuses writes, attachments and files outside the exports as problem+json 403", async () => {
    for (const sql of ["SELECT * FROM read_csv('/etc/passwd')", "ATTACH ':memory:' AS m", "COPY (SELECT 1) TO '/tmp/rem-sql-leak.csv'", "CREATE TABLE t AS SELECT 1"]) {
      const r = await fx.call("POST", "/api/v1/sql", { body: { sql } });
      expect(r.status, sql).toBe(403);
      expect(r.contentType).toMatch(/^application\/problem\+json/);
      expect(r.json.code).toBe("REM_ERR_SQL_REFUSED");
    }
    const bad = await fx.call("POST", "/api/v1/sql", { body: { sql: "SELECT FROM WHERE" } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("REM_ERR_SQL_INVALID");
    const missing = await fx.call("POST", "/api/v1/sql", { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json.code).toBe("REM_ERR_INVALID_ARGUMENT");
  });

  it("keeps tenants apart", async () => {
    // The other tenant has no metrics view; a token for acme cannot ask for it at all.
    const r = await fx.call("POST", "/api/v1/sql", { tenant: "other", body: { sql: "SELECT count(*) FROM metrics" } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("REM_ERR_SQL_INVALID");
    const forbidden = await fx.call("POST", "/api/v1/sql", { tenant: "other", token: readToken, body: { sql: "SELECT 1" } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.code).toBe("REM_ERR_FORBIDDEN");
    const acmeFiles = (await fx.call("POST", "/api/v1/sql", { body: { sql: "SELECT count(*) AS n FROM metrics" } })).json.rows[0].n;
    expect(acmeFiles).toBe(51);
  });

  it("answers any text with 2xx or 4xx, never 5xx", async () => {
    const fragments = fc.constantFrom("SELECT", "FROM", "metrics", "WHERE", "(", ")", ";", "'", "\"", "--", "/*", "*/", "COPY", "ATTACH", "read_csv", "1/0", "CAST('x' AS INT)", "EXPLAIN", "ANALYZE", "WITH", "PIVOT", "UNION", "*", ",", "NULL", "LIMIT", "'/etc/passwd'", "glob", "range(3)");
    const sqlText = fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), fc.array(fragments, { minLength: 1, maxLength: 10 }).map((p) => p.join(" ")));
    await fc.assert(
      fc.asyncProperty(sqlText, async (sql) => {
        const r = await fx.call("POST", "/api/v1/sql", { body: { sql } });
        expect([200, 400, 403, 422], `${sql} → ${r.status} ${r.text}`).toContain(r.status);
      }),
      { numRuns: 200 },
    );
  });
});
