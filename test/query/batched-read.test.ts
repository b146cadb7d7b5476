import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { allPages, deleted, queryFixture, registered, upserted, type QueryFixture } from "./helpers.js";

/**
 * Index-driven plans read their entities in batches (store.getEntitiesIn: one
 * batched LevelDB read per batch). Their results must be exactly those of a
 * full scan with the same predicate — the path that reads no ids — whatever the
 * batch boundaries, LIMIT, OFFSET, cursor or tombstones.
 */
let f: QueryFixture;
let ids: string[] = [];
let otherIds: string[] = [];
const N = 700; // several batches (256 ids each after the first)

beforeAll(async () => {
  f = await queryFixture("docs", {
    type: "object",
    properties: { k: { type: "string" }, n: { type: "integer" }, tags: { type: "array", items: { type: "string" } }, note: { type: "string" } },
    indexed_fields: ["k", "n", "tags"],
  });
  ids = await f.insert(...Array.from({ length: N }, (_, i) => rowFor(i)));
  // Tombstones: every 7th entity deleted (its index entries go, its record stays).
  await f.fx.commit(ids.filter((_, i) => i % 7 === 3).map((id) => deleted("docs", id)));
  // Another schema with the same fields: its entities must never show up in docs.
  await f.fx.commit([registered("other", { type: "object", properties: { k: { type: "string" } }, indexed_fields: ["k"] })]);
  otherIds = Array.from({ length: 20 }, () => randomUUID());
  await f.fx.commit(otherIds.map((id) => upserted("other", id, { k: "k1" })));
});
afterAll(() => f.close());

function rowFor(i: number): JsonObject {
  const row: JsonObject = { k: `k${i % 4}`, tags: [`t${i % 3}`, `u${i % 2}`], note: `n${i % 5}` };
  if (i % 9 !== 0) row.n = i % 12;
  return row;
}

/** [indexed WHERE, plan access] — the same WHERE under NOT NOT is not indexable, so it is scanned. */
const CASES: [string, string][] = [
  ["k = 'k1'", "index_eq"],
  ["k IN ('k1', 'k3')", "index_in"],
  ["tags IN ('t1', 'u0')", "index_in"],
  ["n IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33)", "index_in"],
  ["n BETWEEN 3 AND 7", "index_range"],
  ["k LIKE 'k%'", "index_prefix"],
  ["k = 'k2' OR n = 3 OR tags = 't0'", "index_union"],
];
const TAILS = ["", " LIMIT 100", " LIMIT 300 OFFSET 10", " ORDER BY n DESC LIMIT 50", " ORDER BY n", " ORDER BY id DESC LIMIT 260"];

describe("batched entity reads", () => {
  it.each(CASES)("WHERE %s (%s) returns what a scan with the same predicate returns, with any LIMIT/OFFSET/ORDER BY, in pages too", async (where, access) => {
    expect((await f.explain(`SELECT * FROM docs WHERE ${where}`)).access).toBe(access);
    expect((await f.explain(`SELECT * FROM docs WHERE NOT (NOT (${where}))`)).access).toBe("scan");
    for (const tail of TAILS) {
      const indexed = await f.query(`SELECT * FROM docs WHERE ${where}${tail}`);
      const scanned = await f.query(`SELECT * FROM docs WHERE NOT (NOT (${where}))${tail}`);
      expect(indexed.rows, tail).toEqual(scanned.rows);
      expect(indexed.rows.length, tail).toBeGreaterThan(0);
      expect(indexed.rows.every((r) => r.deleted_at === null && r.entity_type === "docs")).toBe(true);
      for (const pageSize of [50, 256]) {
        const sql = `SELECT * FROM docs WHERE ${where}${tail}`;
        const paged = await allPages((cursor) => f.query(sql, { pageSize, ...(cursor === undefined ? {} : { cursor }) }));
        expect(paged.rows, `${tail} pageSize ${pageSize}`).toEqual(indexed.rows);
      }
    }
  });

  it("ORDER BY on an indexed field reads its index in order, in batches, like an in-memory sort of the same rows", async () => {
    // Every row has k in k0…k3: an IN on it makes the planner read by k and sort in memory instead.
    const all = "k IN ('k0', 'k1', 'k2', 'k3')";
    for (const [where, order, limit, offset] of [["", "ORDER BY n", 400, 0], ["", "ORDER BY n DESC", 400, 3], ["n > 4", "ORDER BY n DESC", null, 0]] as const) {
      const sql = `SELECT * FROM docs${where === "" ? "" : ` WHERE ${where}`} ${order}${limit === null ? "" : ` LIMIT ${limit} OFFSET ${offset}`}`;
      const memorySql = `SELECT * FROM docs WHERE ${all}${where === "" ? "" : ` AND ${where}`} ${order}`;
      expect((await f.explain(sql)).access).toBe("index_order");
      expect((await f.explain(memorySql)).order).toBe("memory");
      const expected = (await f.query(memorySql)).rows.slice(offset, limit === null ? undefined : offset + limit);
      expect((await f.query(sql)).rows).toEqual(expected);
    }
  });

  it("getEntitiesIn equals one getEntityIn per id, in order, for small (synchronous) and large (getMany) batches", async () => {
    const store = f.fx.store;
    const missing = randomUUID();
    const mixed = [...ids, missing, ...otherIds, ids[0]!];
    for (const list of [mixed.slice(0, 40), mixed]) {
      for (const remember of [false, true]) {
        const batched = await store.getEntitiesIn("docs", list, remember);
        expect(batched).toEqual(list.map((id) => store.getEntityIn("docs", id)));
      }
    }
    expect((await store.getEntitiesIn("docs", [])).length).toBe(0);
  });

  it("a batched read racing a write never leaves an older record in the record cache", async () => {
    const store = f.fx.store;
    const target = ids[1]!;
    const reading = store.getEntitiesIn("docs", [...ids.slice(0, 600)], true);
    const writing = f.fx.commit([upserted("docs", target, { k: "moved", note: "new" })]);
    await Promise.all([reading, writing]);
    expect(store.getEntity(target)?.data).toEqual({ k: "moved", note: "new" });
    expect((await store.getEntitiesIn("docs", [target], true))[0]?.data).toEqual({ k: "moved", note: "new" });
  });
});
