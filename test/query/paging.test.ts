import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { allPages, deleted, queryFixture, rejection, upserted, type QueryFixture } from "./helpers.js";

let f: QueryFixture;
let ids: string[] = [];

beforeAll(async () => {
  f = await queryFixture("docs", {
    type: "object",
    properties: { k: { type: "string" }, n: { type: "integer" }, tags: { type: "array", items: { type: "string" } }, note: { type: "string" } },
    indexed_fields: ["k", "n", "tags"],
  });
  ids = await f.insert(...Array.from({ length: 100 }, (_, i) => rowFor(i)));
});

function rowFor(i: number): JsonObject {
  const row: JsonObject = { k: `k${i % 4}`, tags: [`t${i % 3}`, `u${i % 2}`], note: `n${i % 5}` };
  if (i % 9 !== 0) row.n = i % 12; // some without n: NULLs in the order
  return row;
}
afterAll(() => f.close());

const QUERIES = [
  "SELECT id FROM docs",
  "SELECT id FROM docs WHERE note = 'n1'",
  "SELECT id, n FROM docs ORDER BY n",
  "SELECT id FROM docs ORDER BY n DESC",
  "SELECT id FROM docs ORDER BY n DESC, note",
  "SELECT id FROM docs ORDER BY note DESC, n",
  "SELECT id FROM docs ORDER BY id DESC",
  "SELECT id FROM docs WHERE k = 'k1'",
  "SELECT id FROM docs WHERE k = 'k1' ORDER BY n DESC",
  "SELECT id FROM docs WHERE k IN ('k1', 'k3')",
  "SELECT id FROM docs WHERE tags IN ('t1', 'u0')",
  "SELECT id FROM docs WHERE tags = 't2' AND note != 'n1'",
  "SELECT id FROM docs WHERE n BETWEEN 3 AND 7",
  "SELECT id FROM docs WHERE n > 4 ORDER BY n",
  "SELECT id FROM docs WHERE n > 4 ORDER BY n DESC",
  "SELECT id FROM docs WHERE k LIKE 'k%'",
  "SELECT id FROM docs WHERE k LIKE 'k%' ORDER BY k DESC",
  "SELECT id FROM docs WHERE n IS NULL ORDER BY n",
  "SELECT id FROM docs WHERE k = 'k2' OR n = 3 OR tags = 't0'",
  "SELECT id FROM docs WHERE k = 'k2' OR n > 9",
  "SELECT * FROM docs ORDER BY n LIMIT 17 OFFSET 3",
  "SELECT id FROM docs ORDER BY n DESC LIMIT 30 OFFSET 7",
];

describe("keyset pages", () => {
  it.each(QUERIES)("pages of %s concatenate to the unpaged result, for every page size", async (sql) => {
    const all = (await f.query(sql)).rows;
    expect(all.length).toBeGreaterThan(0);
    for (const pageSize of [1, 7, 100]) {
      const paged = await allPages((cursor) => f.query(sql, { pageSize, ...(cursor === undefined ? {} : { cursor }) }));
      expect(paged.rows, `pageSize ${pageSize}`).toEqual(all);
      expect(paged.pages).toBe(Math.max(1, Math.ceil(all.length / pageSize)));
    }
  });

  it("id lookups page too", async () => {
    const sql = `SELECT id FROM docs WHERE id IN (${ids.slice(0, 9).map((i) => `'${i}'`).join(", ")})`;
    const paged = await allPages((cursor) => f.query(sql, { pageSize: 2, ...(cursor === undefined ? {} : { cursor }) }));
    expect(paged.rows.map((r) => r.id)).toEqual(ids.slice(0, 9).sort());
  });

  it("LIMIT bounds the pages; the last page has no cursor", async () => {
    const sql = "SELECT id FROM docs ORDER BY n LIMIT 10";
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const r = await f.query(sql, { pageSize: 3, ...(cursor === undefined ? {} : { cursor }) });
      sizes.push(r.rows.length);
      if (r.next_cursor === null) break;
      cursor = r.next_cursor;
    }
    expect(sizes).toEqual([3, 3, 3, 1]);
  });

  it("without pageSize a page is the LIMIT (or every row)", async () => {
    expect(await f.query("SELECT id FROM docs ORDER BY n LIMIT 5")).toMatchObject({ next_cursor: null });
    expect((await f.query("SELECT id FROM docs ORDER BY n LIMIT 5")).rows).toHaveLength(5);
    expect((await f.query("SELECT id FROM docs")).rows).toHaveLength(100);
    expect((await f.query("SELECT id FROM docs", { pageSize: 100 })).next_cursor).toBeNull();
    expect((await f.query("SELECT id FROM docs", { pageSize: 99 })).next_cursor).not.toBeNull();
  });

  it("the cursor is base64url JSON holding a hash of the query and the last row's sort key", async () => {
    const r = await f.query("SELECT id, n FROM docs ORDER BY n DESC", { pageSize: 4 });
    expect(r.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const body = JSON.parse(Buffer.from(r.next_cursor!, "base64url").toString("utf8")) as { k: unknown[]; i: string; n: number };
    const last = r.rows[3]!;
    expect(body.i).toBe(last.id);
    expect(body.k).toEqual([last.n === null ? { t: "null" } : { t: "number", v: last.n }]);
    expect(body.n).toBe(4);
  });

  it("the next page holds the rows strictly after the cursor, whatever changed in between", async () => {
    const sql = "SELECT id, n FROM docs WHERE note = 'n2' ORDER BY n";
    const first = await f.query(sql, { pageSize: 5 });
    const last = first.rows[4]!;
    // a new row before the cursor is not seen; deleting the cursor's row does not lose the place
    const early = randomUUID();
    await f.fx.commit([upserted("docs", early, { n: -1, note: "n2" }), deleted("docs", last.id as string)]);
    try {
      const rest = await allPages((cursor) => f.query(sql, { pageSize: 5, cursor: cursor ?? first.next_cursor! }));
      const rank = (n: unknown) => (n === null ? Infinity : (n as number)); // NULLs sort last
      const expected = (await f.query(sql)).rows.filter((r) => rank(r.n) > rank(last.n) || (r.n === last.n && (r.id as string) > (last.id as string)));
      expect(expected.length).toBeGreaterThan(0);
      expect(rest.rows).toEqual(expected);
      expect(rest.rows.map((r) => r.id)).not.toContain(early);
    } finally {
      await f.fx.commit([deleted("docs", early), upserted("docs", last.id as string, rowFor(ids.indexOf(last.id as string)))]);
    }
  });
});

describe("cursor and page size misuse", () => {
  it("a cursor of another query is REM_ERR_QUERY_INVALID", async () => {
    const r = await f.query("SELECT id FROM docs ORDER BY n", { pageSize: 2 });
    const err = await rejection(f.query("SELECT id FROM docs ORDER BY n DESC", { pageSize: 2, cursor: r.next_cursor! }), "REM_ERR_QUERY_INVALID");
    expect(err.message).toMatch(/cursor belongs to a different query/);
    await rejection(f.query("SELECT id FROM docs ORDER BY n, note", { cursor: r.next_cursor! }), "REM_ERR_QUERY_INVALID");
  });

  it("a damaged cursor is REM_ERR_QUERY_INVALID", async () => {
    for (const cursor of ["", "not a cursor", Buffer.from('{"q":"x"}').toString("base64url"), Buffer.from("[1,2]").toString("base64url")]) {
      const err = await rejection(f.query("SELECT id FROM docs", { cursor }), "REM_ERR_QUERY_INVALID");
      expect(err.message).toMatch(/cursor is not valid|different query/);
    }
    const r = await f.query("SELECT id FROM docs ORDER BY n", { pageSize: 2 });
    const body = JSON.parse(Buffer.from(r.next_cursor!, "base64url").toString("utf8")) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...body, k: [{ t: "number", v: "1" }] })).toString("base64url");
    await rejection(f.query("SELECT id FROM docs ORDER BY n", { cursor: forged }), "REM_ERR_QUERY_INVALID");
  });

  it("COUNT(*) takes no cursor", async () => {
    const r = await f.query("SELECT id FROM docs", { pageSize: 2 });
    await rejection(f.query("SELECT COUNT(*) FROM docs", { cursor: r.next_cursor! }), "REM_ERR_QUERY_INVALID");
  });

  it("pageSize must be a whole number ≥ 1 (REM_ERR_INVALID_ARGUMENT)", async () => {
    for (const pageSize of [0, -1, 1.5, Number.NaN]) {
      const err = await rejection(f.query("SELECT id FROM docs", { pageSize }), "REM_ERR_INVALID_ARGUMENT");
      expect(err.message).toMatch(/pageSize must be a whole number ≥ 1/);
    }
  });
});
