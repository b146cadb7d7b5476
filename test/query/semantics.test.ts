import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { deleted, queryFixture, upserted, type QueryFixture } from "./helpers.js";

const SCHEMA = {
  type: "object",
  properties: {
    title: { type: "string", indexed: true },
    category: { type: "string" },
    n: { type: "integer" },
    score: { type: "number" },
    published: { type: "boolean" },
    published_at: { type: "string", format: "date-time" },
    tags: { type: "array", items: { type: "string" } },
    note: { type: "string" },
    order: { type: "string" },
  },
  json_schema_extra: { indexed_fields: ["category", "n", "published_at", "tags"] },
};

/** Named rows; a6 is deleted, a7 re-upserted with new data. */
const ROWS: Record<string, JsonObject> = {
  a1: { title: "Alpha", category: "news", n: 1, score: 1.5, published: true, published_at: "2024-01-01T00:00:00Z", tags: ["x", "y"], note: "it's", order: "first" },
  a2: { title: "Beta", category: "science", n: 2, score: 2.5, published: false, published_at: "2024-02-01T00:00:00Z", tags: ["y"], note: "50% off" },
  a3: { title: "Gamma", category: "news", n: 3, published: true, published_at: "2024-03-01", tags: [] },
  a4: { title: "alpha beta", category: null, n: null, score: 0, tags: null },
  a5: { title: "Delta", category: "sports", n: "3", published_at: "not a date" },
  a7: { title: "Eta", category: "news", n: 5 },
};

let f: QueryFixture;
const id: Record<string, string> = {};
const name = (rowId: unknown) => Object.keys(id).find((k) => id[k] === rowId) ?? `?${String(rowId)}`;

beforeAll(async () => {
  f = await queryFixture("articles", SCHEMA);
  for (const k of ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]) id[k] = randomUUID();
  await f.fx.commit(Object.entries(ROWS).map(([k, data]) => upserted("articles", id[k]!, k === "a7" ? { category: "old", n: 0 } : data)));
  await f.fx.commit([upserted("articles", id.a6!, { title: "Zeta", category: "news", n: 1 })]);
  await f.fx.commit([deleted("articles", id.a6!), upserted("articles", id.a7!, ROWS.a7!)]);
});
afterAll(() => f.close());

/** The names of the rows a WHERE selects, sorted (order is tested separately). */
async function where(cond: string): Promise<string[]> {
  const r = await f.query(`SELECT id FROM articles WHERE ${cond}`);
  return r.rows.map((row) => name(row.id)).sort();
}

/** The names of the rows of a query, in result order. */
async function ordered(sql: string): Promise<string[]> {
  return (await f.query(sql)).rows.map((row) => name(row.id));
}

describe("SELECT", () => {
  it("* returns entity views of live entities only (deleted ones never; re-upserted ones with their new data)", async () => {
    const r = await f.query("SELECT * FROM articles");
    expect(r.rows.map((x) => name(x.id)).sort()).toEqual(["a1", "a2", "a3", "a4", "a5", "a7"]);
    const a7 = r.rows.find((x) => x.id === id.a7)!;
    expect(a7).toMatchObject({ id: id.a7, entity_type: "articles", title: "Eta", category: "news", n: 5, deleted_at: null });
    expect(Object.keys(a7)).toEqual(["id", "entity_type", "category", "n", "title", "created_at", "modified_at", "deleted_at"]);
    expect(r.count).toBeUndefined();
    expect(r.next_cursor).toBeNull();
  });

  it("without ORDER BY, rows come in id order", async () => {
    const r = await f.query("SELECT id FROM articles");
    const ids = r.rows.map((x) => x.id as string);
    expect(ids).toEqual([...ids].sort());
  });

  it("a column list returns those columns (missing ones as null, system fields as in entity views, aliases as keys)", async () => {
    const r = await f.query(`SELECT title, n AS num, tags, id, entity_type, created_at, deleted_at FROM articles WHERE id = '${id.a4}'`);
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0]!;
    expect(row).toMatchObject({ title: "alpha beta", num: null, tags: null, id: id.a4, entity_type: "articles", deleted_at: null });
    expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await f.query(`SELECT note FROM articles WHERE id = '${id.a3}'`)).rows).toEqual([{ note: null }]);
  });

  it("COUNT(*) counts matching rows (with an alias; OFFSET drops its one row, as in SQL)", async () => {
    expect(await f.query("SELECT COUNT(*) FROM articles")).toMatchObject({ rows: [{ count: 6 }], count: 6, next_cursor: null });
    expect(await f.query("SELECT count(*) AS total FROM articles WHERE category = 'news'")).toMatchObject({ rows: [{ total: 3 }], count: 3 });
    expect(await f.query("SELECT COUNT(*) FROM articles WHERE n = NULL")).toMatchObject({ rows: [{ count: 0 }], count: 0 });
    expect(await f.query("SELECT COUNT(*) FROM articles OFFSET 1")).toMatchObject({ rows: [], count: 6 });
  });

  it("accepts lower-case keywords, a trailing semicolon, double-quoted identifiers, table qualifiers and aliases", async () => {
    expect(await where("n = 1")).toEqual(["a1"]);
    expect((await f.query("select id from articles where n = 1;")).rows.map((r) => name(r.id))).toEqual(["a1"]);
    expect((await f.query(`SELECT "order" FROM "articles" WHERE "order" = 'first'`)).rows).toEqual([{ order: "first" }]);
    expect((await f.query("SELECT articles.title FROM articles WHERE articles.n = 2")).rows).toEqual([{ title: "Beta" }]);
    expect((await f.query("SELECT a.title FROM articles a WHERE a.n = 2")).rows).toEqual([{ title: "Beta" }]);
    expect((await f.query("SELECT a.title FROM articles AS a WHERE a.n = 2")).rows).toEqual([{ title: "Beta" }]);
  });
});

describe("comparisons", () => {
  it("= and != / <> on strings (NULL and missing are unknown, never matching either)", async () => {
    expect(await where("category = 'news'")).toEqual(["a1", "a3", "a7"]);
    expect(await where("category != 'news'")).toEqual(["a2", "a5"]);
    expect(await where("category <> 'news'")).toEqual(["a2", "a5"]);
    expect(await where("note = 'it''s'")).toEqual(["a1"]);
  });

  it("< <= > >= compare within a type only: a number never equals or orders against a string", async () => {
    expect(await where("n > 1")).toEqual(["a2", "a3", "a7"]);
    expect(await where("n >= 3")).toEqual(["a3", "a7"]);
    expect(await where("n < 3")).toEqual(["a1", "a2"]);
    expect(await where("n <= 3")).toEqual(["a1", "a2", "a3"]);
    expect(await where("n = '3'")).toEqual(["a5"]);
    expect(await where("n >= '3'")).toEqual(["a5"]);
    expect(await where("n != 3")).toEqual(["a1", "a2", "a5", "a7"]);
    expect(await where("score > 1")).toEqual(["a1", "a2"]);
    expect(await where("score = 1.5")).toEqual(["a1"]);
    expect(await where("score < -1e3")).toEqual([]);
  });

  it("a literal may stand on the left", async () => {
    expect(await where("1 = n")).toEqual(["a1"]);
    expect(await where("3 <= n")).toEqual(["a3", "a7"]);
  });

  it("booleans compare with TRUE / FALSE, not with strings", async () => {
    expect(await where("published = TRUE")).toEqual(["a1", "a3"]);
    expect(await where("published = false")).toEqual(["a2"]);
    expect(await where("published = 'true'")).toEqual([]);
  });

  it("date fields compare as instants: strings are parsed, numbers are epoch ms; unparseable values stay strings", async () => {
    expect(await where("published_at > '2024-01-15'")).toEqual(["a2", "a3"]);
    expect(await where("published_at = '2024-01-01T01:00:00+01:00'")).toEqual(["a1"]);
    expect(await where(`published_at < ${Date.UTC(2024, 1, 1)}`)).toEqual(["a1"]);
    expect(await where("published_at = 'not a date'")).toEqual(["a5"]);
    expect(await where("published_at BETWEEN '2024-01-01' AND '2024-02-01T00:00:00Z'")).toEqual(["a1", "a2"]);
  });

  it("comparing with NULL is unknown: no row matches `= NULL` or `!= NULL`, nor their negation", async () => {
    expect(await where("n = NULL")).toEqual([]);
    expect(await where("n != NULL")).toEqual([]);
    expect(await where("NOT (n = NULL)")).toEqual([]);
  });
});

describe("IN, BETWEEN, LIKE, IS NULL", () => {
  it("IN / NOT IN with three-valued logic for NULL in the list", async () => {
    expect(await where("n IN (1, 3)")).toEqual(["a1", "a3"]);
    expect(await where("n IN (1, '3')")).toEqual(["a1", "a5"]);
    expect(await where("n IN (1, NULL)")).toEqual(["a1"]);
    expect(await where("n NOT IN (1)")).toEqual(["a2", "a3", "a5", "a7"]);
    expect(await where("n NOT IN (1, NULL)")).toEqual([]);
    expect(await where("NOT n IN (1)")).toEqual(["a2", "a3", "a5", "a7"]);
  });

  it("BETWEEN is inclusive; NOT BETWEEN is its negation (a value of another type is outside)", async () => {
    expect(await where("n BETWEEN 2 AND 3")).toEqual(["a2", "a3"]);
    expect(await where("n NOT BETWEEN 2 AND 3")).toEqual(["a1", "a5", "a7"]);
    expect(await where("n BETWEEN 3 AND 2")).toEqual([]);
    expect(await where("n BETWEEN 1 AND NULL")).toEqual([]);
  });

  it("LIKE: % and _ wildcards, case-sensitive, \\ escapes, strings only", async () => {
    expect(await where("title LIKE 'Al%'")).toEqual(["a1"]);
    expect(await where("title LIKE '%ta'")).toEqual(["a2", "a4", "a5", "a7"]);
    expect(await where("title LIKE '_eta'")).toEqual(["a2"]);
    expect(await where("title LIKE 'alpha%beta'")).toEqual(["a4"]);
    expect(await where("title NOT LIKE '%ta'")).toEqual(["a1", "a3"]);
    expect(await where("note LIKE '50\\% off'")).toEqual(["a2"]);
    expect(await where("note LIKE '50\\%'")).toEqual([]);
    expect(await where("note LIKE 'it''s'")).toEqual(["a1"]);
    expect(await where("n LIKE '%'")).toEqual(["a5"]);
    expect(await where("title LIKE NULL")).toEqual([]);
  });

  it("IS NULL is true for missing or null fields only (not for an empty array)", async () => {
    expect(await where("n IS NULL")).toEqual(["a4"]);
    expect(await where("score IS NULL")).toEqual(["a3", "a5", "a7"]);
    expect(await where("tags IS NULL")).toEqual(["a4", "a5", "a7"]);
    expect(await where("tags IS NOT NULL")).toEqual(["a1", "a2", "a3"]);
  });
});

describe("arrays", () => {
  it("a comparison, IN, BETWEEN or LIKE matches when ANY element does", async () => {
    expect(await where("tags = 'y'")).toEqual(["a1", "a2"]);
    expect(await where("tags != 'x'")).toEqual(["a1", "a2"]);
    expect(await where("tags IN ('x', 'z')")).toEqual(["a1"]);
    expect(await where("tags BETWEEN 'a' AND 'x'")).toEqual(["a1"]);
    expect(await where("tags LIKE 'y%'")).toEqual(["a1", "a2"]);
  });

  it("NOT IN / NOT LIKE / NOT (…) negate the ANY (an empty array matches nothing, so its negation is true)", async () => {
    expect(await where("tags NOT IN ('x')")).toEqual(["a2", "a3"]);
    expect(await where("NOT tags = 'x'")).toEqual(["a2", "a3"]);
    expect(await where("tags NOT LIKE 'x%'")).toEqual(["a2", "a3"]);
  });
});

describe("AND / OR / NOT", () => {
  it("AND binds tighter than OR; parentheses group", async () => {
    expect(await where("category = 'science' OR category = 'news' AND n = 3")).toEqual(["a2", "a3"]);
    expect(await where("(category = 'science' OR category = 'news') AND n = 3")).toEqual(["a3"]);
    expect(await where("n = 1 AND category = 'news' OR n = 2 AND category = 'science'")).toEqual(["a1", "a2"]);
    expect(await where("n = 5 OR NOT n = 1 AND category = 'news'")).toEqual(["a3", "a7"]);
    expect(await where("NOT (n = 1 OR n = 2)")).toEqual(["a3", "a5", "a7"]);
    expect(await where("NOT NOT n = 1")).toEqual(["a1"]);
  });

  it("three-valued logic: TRUE OR UNKNOWN is TRUE, FALSE AND UNKNOWN is FALSE, NOT UNKNOWN is UNKNOWN", async () => {
    expect(await where("n = 1 OR n = NULL")).toEqual(["a1"]);
    expect(await where("NOT (n = 1 AND n = NULL)")).toEqual(["a2", "a3", "a5", "a7"]);
    expect(await where("NOT (n = 2)")).toEqual(["a1", "a3", "a5", "a7"]);
  });
});

describe("system fields", () => {
  it("id, entity_type, created_at, modified_at and deleted_at are queryable", async () => {
    expect(await where(`id = '${id.a2}'`)).toEqual(["a2"]);
    expect(await where(`id IN ('${id.a2}', '${id.a6}', 'not-a-uuid')`)).toEqual(["a2"]);
    expect(await where(`id != '${id.a2}'`)).toEqual(["a1", "a3", "a4", "a5", "a7"]);
    expect(await where("entity_type = 'articles'")).toHaveLength(6);
    expect(await where("created_at > '2000-01-01' AND modified_at < '2999-01-01'")).toHaveLength(6);
    expect(await where("deleted_at IS NULL")).toHaveLength(6);
    expect(await where("deleted_at IS NOT NULL")).toEqual([]);
  });

  it("a re-upserted live entity keeps created_at (its first commit's) and moves modified_at", async () => {
    const [a1] = (await f.query(`SELECT created_at FROM articles WHERE id = '${id.a1}'`)).rows;
    const [a7] = (await f.query(`SELECT created_at, modified_at FROM articles WHERE id = '${id.a7}'`)).rows;
    expect(a7!.created_at).toBe(a1!.created_at);
    expect(String(a7!.modified_at) >= String(a7!.created_at)).toBe(true);
    expect(await where(`created_at = '${String(a1!.created_at)}' AND modified_at >= '${String(a7!.modified_at)}'`)).toContain("a7");
  });
});

describe("ORDER BY, LIMIT, OFFSET", () => {
  it("ascending: by type (numbers before strings), NULLs last; ties by id", async () => {
    expect(await ordered("SELECT id FROM articles ORDER BY n")).toEqual(["a1", "a2", "a3", "a7", "a5", "a4"]);
    expect(await ordered("SELECT id FROM articles ORDER BY n ASC")).toEqual(["a1", "a2", "a3", "a7", "a5", "a4"]);
  });

  it("descending: NULLs first (as PostgreSQL)", async () => {
    expect(await ordered("SELECT id FROM articles ORDER BY n DESC")).toEqual(["a4", "a5", "a7", "a3", "a2", "a1"]);
  });

  it("several keys, and ties broken by id ascending", async () => {
    const news = ["a1", "a3", "a7"].sort((a, b) => (id[a]! < id[b]! ? -1 : 1));
    expect(await ordered("SELECT id FROM articles WHERE category = 'news' ORDER BY category")).toEqual(news);
    expect(await ordered("SELECT id FROM articles WHERE category = 'news' ORDER BY category DESC")).toEqual(news);
    expect(await ordered("SELECT id FROM articles ORDER BY published DESC, n")).toEqual(["a7", "a5", "a4", "a1", "a3", "a2"]);
  });

  it("strings order by code point; dates as instants", async () => {
    expect(await ordered("SELECT id FROM articles ORDER BY title")).toEqual(["a1", "a2", "a5", "a7", "a3", "a4"]);
    expect(await ordered("SELECT id FROM articles WHERE published_at IS NOT NULL ORDER BY published_at DESC")).toEqual(["a5", "a3", "a2", "a1"]);
  });

  it("system fields order too", async () => {
    const byId = Object.keys(id).filter((k) => k !== "a6").sort((a, b) => (id[a]! < id[b]! ? -1 : 1));
    expect(await ordered("SELECT id FROM articles ORDER BY id")).toEqual(byId);
    expect(await ordered("SELECT id FROM articles ORDER BY id DESC")).toEqual([...byId].reverse());
  });

  it("LIMIT and OFFSET cut the ordered result", async () => {
    expect(await ordered("SELECT id FROM articles ORDER BY n LIMIT 2")).toEqual(["a1", "a2"]);
    expect(await ordered("SELECT id FROM articles ORDER BY n LIMIT 2 OFFSET 1")).toEqual(["a2", "a3"]);
    expect(await ordered("SELECT id FROM articles ORDER BY n OFFSET 4")).toEqual(["a5", "a4"]);
    expect(await ordered("SELECT id FROM articles ORDER BY n OFFSET 4 LIMIT 1")).toEqual(["a5"]);
    expect(await ordered("SELECT id FROM articles ORDER BY n LIMIT ALL")).toHaveLength(6);
    expect(await ordered("SELECT id FROM articles ORDER BY n LIMIT 0")).toEqual([]);
    expect(await ordered("SELECT id FROM articles ORDER BY n LIMIT 10 OFFSET 10")).toEqual([]);
  });
});

describe("EXPLAIN", () => {
  it("returns the plan as the single row instead of rows", async () => {
    const r = await f.query("EXPLAIN SELECT * FROM articles WHERE category = 'news'");
    expect(r.rows).toEqual([{ ...r.plan, index: { ...r.plan.index } }]);
    expect(r.plan).toMatchObject({ schema: "articles", access: "index_eq", index: { field: "category", values: ["news"] }, residual: true });
    const c = await f.query("explain SELECT COUNT(*) FROM articles");
    expect(c.rows[0]).toMatchObject({ access: "scan", index: null, residual: false, estimated_rows: 1 });
  });
});
