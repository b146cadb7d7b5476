import { describe, expect, it } from "vitest";
import type { Predicate } from "../../src/query/ast.js";
import { compileLike } from "../../src/query/like.js";
import { parseQuery } from "../../src/query/parse.js";

const c = (name: string, quoted = false) => ({ name, quoted });
const eq = (col: string, value: string | number | boolean | null): Predicate => ({ kind: "compare", column: c(col), op: "=", value });
const where = (cond: string) => parseQuery(`SELECT * FROM t WHERE ${cond}`).where;

describe("parseQuery", () => {
  it("AND binds tighter than OR, whatever tree the SQL parser built (it folds WHERE chains left to right)", () => {
    expect(where("a = 1 OR b = 2 AND c = 3")).toEqual({ kind: "or", items: [eq("a", 1), { kind: "and", items: [eq("b", 2), eq("c", 3)] }] });
    expect(where("a = 1 AND b = 2 OR c = 3 AND d = 4")).toEqual({
      kind: "or",
      items: [
        { kind: "and", items: [eq("a", 1), eq("b", 2)] },
        { kind: "and", items: [eq("c", 3), eq("d", 4)] },
      ],
    });
    expect(where("a = 1 OR NOT b = 2 AND c = 3")).toEqual({ kind: "or", items: [eq("a", 1), { kind: "and", items: [{ kind: "not", item: eq("b", 2) }, eq("c", 3)] }] });
    expect(where("(a = 1 OR b = 2) AND c = 3")).toEqual({ kind: "and", items: [{ kind: "or", items: [eq("a", 1), eq("b", 2)] }, eq("c", 3)] });
    expect(where("NOT (a = 1 OR b = 2 AND c = 3)")).toEqual({ kind: "not", item: { kind: "or", items: [eq("a", 1), { kind: "and", items: [eq("b", 2), eq("c", 3)] }] } });
    expect(where("a = 1 AND b BETWEEN 1 AND 2 OR c = 3")).toEqual({
      kind: "or",
      items: [{ kind: "and", items: [eq("a", 1), { kind: "between", column: c("b"), low: 1, high: 2, negated: false }] }, eq("c", 3)],
    });
  });

  it("literals: quotes doubled, negative and decimal numbers, booleans, NULL; a literal on the left flips the operator", () => {
    expect(where("a = 'it''s'")).toEqual(eq("a", "it's"));
    expect(where("a = -1.5")).toEqual(eq("a", -1.5));
    expect(where("a = - 2")).toEqual(eq("a", -2));
    expect(where("a = .5")).toEqual(eq("a", 0.5));
    expect(where("a = 12345678901")).toEqual(eq("a", 12345678901));
    expect(where("a = TRUE")).toEqual(eq("a", true));
    expect(where("a = NULL")).toEqual(eq("a", null));
    expect(where("3 < a")).toEqual({ kind: "compare", column: c("a"), op: ">", value: 3 });
    expect(where("a <> 'x'")).toEqual({ kind: "compare", column: c("a"), op: "!=", value: "x" });
    expect(where('"A b" = 1')).toEqual({ kind: "compare", column: c("A b", true), op: "=", value: 1 });
  });

  it("IN, LIKE, IS NULL and their negations", () => {
    expect(where("a NOT IN (1, 'x', NULL)")).toEqual({ kind: "in", column: c("a"), values: [1, "x", null], negated: true });
    expect(where("a NOT LIKE 'x%'")).toEqual({ kind: "like", column: c("a"), pattern: "x%", negated: true });
    expect(where("a IS NOT NULL")).toEqual({ kind: "is_null", column: c("a"), negated: true });
  });

  it("select list, ORDER BY, LIMIT and OFFSET in either order, EXPLAIN", () => {
    expect(parseQuery("SELECT a, b AS x FROM t").projection).toEqual({ kind: "columns", columns: [{ column: c("a"), as: "a" }, { column: c("b"), as: "x" }] });
    expect(parseQuery("SELECT COUNT(*) FROM t").projection).toEqual({ kind: "count", as: "count" });
    const q = parseQuery("EXPLAIN SELECT * FROM t ORDER BY a DESC, b OFFSET 5 LIMIT 10");
    expect(q).toMatchObject({ explain: true, schema: "t", projection: { kind: "star" }, orderBy: [{ column: c("a"), direction: "desc" }, { column: c("b"), direction: "asc" }], limit: 10, offset: 5 });
    expect(parseQuery("SELECT * FROM t LIMIT 10 OFFSET 5")).toMatchObject({ limit: 10, offset: 5 });
    expect(parseQuery("SELECT * FROM t LIMIT ALL OFFSET 2")).toMatchObject({ limit: null, offset: 2 });
    expect(parseQuery("SELECT * FROM t OFFSET 3")).toMatchObject({ limit: null, offset: 3 });
    expect(parseQuery("SELECT * FROM t")).toMatchObject({ explain: false, where: null, orderBy: [], limit: null, offset: 0 });
  });
});

describe("compileLike", () => {
  it("extracts the literal prefix and matches whole strings by code point", () => {
    expect(compileLike("ab%")).toMatchObject({ prefix: "ab", exact: false });
    expect(compileLike("a\\%b_%")).toMatchObject({ prefix: "a%b", exact: false });
    expect(compileLike("abc")).toMatchObject({ prefix: "abc", exact: true });
    expect(compileLike("%x").prefix).toBe("");
    expect(compileLike("_").regex.test("😀")).toBe(true);
    expect(compileLike("a.c").regex.test("abc")).toBe(false);
    expect(compileLike("a%").regex.test("a\nb")).toBe(true);
  });
});
