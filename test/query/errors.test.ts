import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileLike } from "../../src/query/like.js";
import { queryFixture, rejection, type QueryFixture } from "./helpers.js";

let f: QueryFixture;

beforeAll(async () => {
  f = await queryFixture("articles", {
    type: "object",
    properties: { title: { type: "string" }, n: { type: "integer" }, tags: { type: "array", items: { type: "string" } }, meta: { type: "object" } },
    indexed_fields: ["title", "n", "tags"],
  });
  await f.insert({ title: "a", n: 1 });
});
afterAll(() => f.close());

/** Every refusal names the construct and lists what is supported. */
async function refused(sql: string, what: RegExp): Promise<void> {
  const err = await rejection(f.query(sql), "REM_ERR_QUERY_UNSUPPORTED");
  expect(err.message, sql).toMatch(what);
  expect(err.message, sql).toMatch(/REM SQL supports: \[EXPLAIN\] SELECT/);
}

async function invalid(sql: string, what: RegExp): Promise<Error & { details: Record<string, unknown> }> {
  const err = await rejection(f.query(sql), "REM_ERR_QUERY_INVALID");
  expect(err.message, sql).toMatch(what);
  return err;
}

describe("REM_ERR_QUERY_UNSUPPORTED", () => {
  it.each([
    ["SELECT * FROM articles JOIN other ON articles.id = other.id", /JOIN/],
    ["SELECT * FROM articles a LEFT JOIN other o ON a.id = o.id", /JOIN/],
    ["SELECT * FROM articles, other", /join|several tables/i],
    ["SELECT * FROM (SELECT * FROM articles) t", /subquery/i],
    ["SELECT n FROM articles GROUP BY n", /GROUP BY/],
    ["SELECT * FROM articles HAVING n > 1", /HAVING/],
    ["SELECT DISTINCT n FROM articles", /DISTINCT/],
    ["SELECT * FROM articles UNION SELECT * FROM articles", /UNION/],
    ["WITH x AS (SELECT * FROM articles) SELECT * FROM x", /WITH/],
    ["SELECT * FROM articles WHERE n IN (SELECT n FROM articles)", /subquery/i],
    ["SELECT * FROM articles WHERE EXISTS (SELECT 1 FROM articles)", /condition/i],
  ])("%s", async (sql, what) => refused(sql, what));

  it.each([
    ["SELECT * FROM articles WHERE lower(title) = 'a'", /one side must be a column|expression/i],
    ["SELECT lower(title) FROM articles", /function in the select list/],
    ["SELECT SUM(n) FROM articles", /SUM.*only COUNT\(\*\)/],
    ["SELECT COUNT(n) FROM articles", /COUNT.*only COUNT\(\*\)/],
    ["SELECT COUNT(DISTINCT n) FROM articles", /only COUNT\(\*\)/],
    ["SELECT COUNT(*), n FROM articles", /GROUP BY/],
    ["SELECT *, n FROM articles", /\* together/],
    ["SELECT n + 1 FROM articles", /expression/i],
    ["SELECT * FROM articles WHERE n + 1 > 2", /one side must be a column/],
    ["SELECT * FROM articles WHERE n = 1 + 1", /value|expression/i],
    ["SELECT * FROM articles WHERE n = tags", /two columns/],
    ["SELECT * FROM articles WHERE title = \"a\"", /two columns.*single quotes/],
    ["SELECT * FROM articles WHERE title ILIKE 'a%'", /ILIKE/],
    ["SELECT * FROM articles WHERE title LIKE 'a!%' ESCAPE '!'", /ESCAPE/],
    ["SELECT * FROM articles WHERE title ~ 'a'", /operator ~/],
    ["SELECT * FROM articles WHERE n IS TRUE", /only IS NULL and IS NOT NULL/],
    ["SELECT * FROM articles WHERE TRUE", /condition/i],
    ["SELECT * FROM articles WHERE n", /condition/i],
    ["SELECT * FROM articles WHERE n = $1", /parameters/i],
    ["SELECT * FROM articles WHERE title = DATE '2024-01-01'", /typed literal.*as a string/],
    ["SELECT * FROM articles WHERE n = CAST('1' AS INT)", /value|CAST/i],
    ["SELECT * FROM articles ORDER BY lower(title)", /ORDER BY/],
    ["SELECT * FROM articles ORDER BY 1", /column position/],
    ["SELECT * FROM articles ORDER BY n NULLS FIRST", /NULLS FIRST/],
    ["SELECT * FROM articles ORDER BY tags", /ORDER BY tags.*array/],
    ["SELECT * FROM articles ORDER BY meta", /ORDER BY meta.*object/],
    ["SELECT COUNT(*) FROM articles ORDER BY n", /ORDER BY with COUNT/],
  ])("%s", async (sql, what) => refused(sql, what));

  it.each([
    ["INSERT INTO articles (title) VALUES ('x')", /INSERT statements.*read-only/],
    ["UPDATE articles SET title = 'x'", /UPDATE statements/],
    ["DELETE FROM articles WHERE n = 1", /DELETE statements/],
    ["DROP TABLE articles", /DROP statements/],
    ["SELECT * FROM articles; SELECT * FROM articles", /Several statements.*2/],
    ["EXPLAIN ANALYZE SELECT * FROM articles", /EXPLAIN options/],
    ["SELECT * FROM public.articles", /qualified table name/],
    ["SELECT 1", /without FROM/],
  ])("%s", async (sql, what) => refused(sql, what));
});

describe("REM_ERR_QUERY_INVALID", () => {
  it("malformed SQL names the position", async () => {
    const err = await invalid("SELEC * FROM articles", /malformed SQL at line 1, column 7: unexpected "\*"/);
    expect(err.details).toMatchObject({ line: 1, column: 7, offset: 6 });
    await invalid("SELECT * FROM articles WHERE", /line 1, column 29: unexpected the end of the query/);
    await invalid("SELECT *\nFROM articles\nWHERE title = 'a", /line 3, column 17/);
    const e2 = await invalid("EXPLAIN\nSELEC * FROM articles", /line 2, column 7/);
    expect(e2.details.offset).toBe(14);
  });

  it("an unknown column is named, with the columns there are", async () => {
    const err = await invalid("SELECT * FROM articles WHERE nope = 1", /unknown column "nope" in schema "articles"; columns are: id, entity_type, created_at, modified_at, deleted_at, meta, n, tags, title/);
    expect(err.details).toMatchObject({ field: "nope" });
    await invalid("SELECT nope FROM articles", /unknown column "nope"/);
    await invalid("SELECT * FROM articles ORDER BY nope", /unknown column "nope"/);
    await invalid("SELECT * FROM articles WHERE edges IS NULL", /unknown column "edges"/);
    await invalid('SELECT * FROM articles WHERE "Title" = \'a\'', /unknown column "Title".*double quotes name a column/);
  });

  it("a column qualified by another table is refused", async () => {
    await invalid("SELECT * FROM articles WHERE other.n = 1", /unknown table "other"/);
  });

  it("bad LIMIT / OFFSET values", async () => {
    await invalid("SELECT * FROM articles LIMIT -1", /LIMIT must be a whole number/);
    await invalid("SELECT * FROM articles LIMIT 1.5", /LIMIT must be a whole number/);
    await invalid("SELECT * FROM articles OFFSET -2", /OFFSET must be a whole number/);
  });

  it("empty queries, bad literals and patterns", async () => {
    await invalid("", /empty/);
    await invalid("   ", /empty/);
    await invalid(";", /no statement|malformed/);
    await invalid("EXPLAIN", /EXPLAIN needs a SELECT/);
    await invalid("SELECT * FROM articles WHERE n = 1e400", /out of range/);
    // the grammar reads \' as an escaped quote, so a trailing lone \ can only reach compileLike directly
    expect(() => compileLike("a\\")).toThrow(/ends with the escape character/);
    await invalid("SELECT * FROM articles WHERE title LIKE 5", /LIKE needs a string pattern/);
    await invalid("SELECT * FROM articles WHERE n BETWEEN 1", /malformed|BETWEEN/);
  });
});

describe("REM_ERR_SCHEMA_NOT_FOUND", () => {
  it("names the schema and lists the registered ones", async () => {
    const err = await rejection(f.query("SELECT * FROM nope"), "REM_ERR_SCHEMA_NOT_FOUND");
    expect(err.message).toMatch(/unknown schema "nope" in FROM; registered schemas: articles/);
    await rejection(f.explain("SELECT COUNT(*) FROM nope"), "REM_ERR_SCHEMA_NOT_FOUND");
  });
});
