import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import type { EntityRecord } from "../../projections/store/records.js";
import type { Plan } from "../../src/query/mod.js";
import { queryFixture, type QueryFixture } from "./helpers.js";

const N = 300;
let f: QueryFixture;
let ids: string[] = [];

beforeAll(async () => {
  f = await queryFixture("items", {
    type: "object",
    properties: {
      cat: { type: "string" },
      n: { type: "integer" },
      title: { type: "string" },
      tags: { type: "array", items: { type: "string" } },
      d: { type: "string", format: "date-time" },
      note: { type: "string" },
    },
    indexed_fields: ["cat", "n", "title", "tags", "d"],
  });
  const rows: JsonObject[] = [];
  for (let i = 0; i < N; i++) {
    const row: JsonObject = { n: i % 50, title: `t${String(i).padStart(3, "0")}`, tags: [`g${i % 7}`, `h${i % 5}`], d: new Date(Date.UTC(2024, 0, 1 + (i % 60))).toISOString(), note: `note ${i % 9}` };
    if (i % 10 !== 0) row.cat = ["a", "b", "c"][i % 3]!; // every tenth has no category
    rows.push(row);
  }
  ids = await f.insert(...rows);
});
afterAll(() => f.close());

/**
 * The same query as a scan sorted in memory: NOT NOT hides the WHERE from the planner
 * (it is the identity in three-valued logic), and a constant first sort key
 * (entity_type) keeps the order while ruling out reading an index in order.
 */
function asScan(sql: string): string {
  const m = /^(SELECT .*? FROM items)(?: WHERE (.*?))?(?: ORDER BY (.*?))?((?: LIMIT \d+)?(?: OFFSET \d+)?)$/.exec(sql);
  if (m === null) throw new Error(`cannot rewrite ${sql}`);
  return `${m[1]} WHERE NOT NOT (${m[2] ?? "id IS NOT NULL"})${m[3] === undefined ? "" : ` ORDER BY entity_type, ${m[3]}`}${m[4]}`;
}

/** Runs a query, checks its rows equal the scan's, returns its plan. */
async function planOf(sql: string): Promise<Plan> {
  const r = await f.query(sql);
  const scan = await f.query(asScan(sql));
  expect(scan.plan.access, asScan(sql)).toBe("scan");
  expect(r.rows, sql).toEqual(scan.rows);
  expect(await f.explain(sql)).toEqual(r.plan);
  return r.plan;
}

describe("access choice (EXPLAIN) — and every plan returns the scan's rows", () => {
  it("indexed equality → index_eq", async () => {
    expect(await planOf("SELECT id FROM items WHERE cat = 'a'")).toEqual({
      schema: "items",
      access: "index_eq",
      index: { field: "cat", values: ["a"] },
      residual: true,
      order: "none",
      limit: null,
      offset: 0,
      estimated_rows: null,
      note: "equality lookup in the index on cat",
    });
    expect(await planOf("SELECT id FROM items WHERE tags = 'g3'")).toMatchObject({ access: "index_eq", index: { field: "tags", values: ["g3"] } });
    expect(await planOf("SELECT id FROM items WHERE cat IS NULL")).toMatchObject({ access: "index_eq", index: { field: "cat", values: [null] } });
  });

  it("IN → index_in (a merge of point lookups; NULLs and duplicates dropped)", async () => {
    expect(await planOf("SELECT id FROM items WHERE cat IN ('b', 'a', NULL, 'a')")).toMatchObject({ access: "index_in", index: { field: "cat", values: ["a", "b"] }, order: "none" });
    expect(await planOf("SELECT id FROM items WHERE tags IN ('g1', 'h1')")).toMatchObject({ access: "index_in", order: "none" });
    expect(await planOf("SELECT id FROM items WHERE cat IN (NULL)")).toMatchObject({ access: "index_in", index: { values: [] }, estimated_rows: 0 });
  });

  it("ranges → index_range, bounds of one field intersected", async () => {
    expect(await planOf("SELECT id FROM items WHERE n >= 10 AND n < 20")).toMatchObject({ access: "index_range", index: { field: "n", range: { lower: { value: 10, inclusive: true }, upper: { value: 20, inclusive: false } } }, order: "memory" });
    expect(await planOf("SELECT id FROM items WHERE n > 3 AND n > 40 AND n <= 45")).toMatchObject({ index: { range: { lower: { value: 40, inclusive: false }, upper: { value: 45, inclusive: true } } } });
    expect(await planOf("SELECT id FROM items WHERE n BETWEEN 5 AND 6")).toMatchObject({ access: "index_range", index: { range: { lower: { value: 5, inclusive: true }, upper: { value: 6, inclusive: true } } } });
    expect(await planOf("SELECT id FROM items WHERE d > '2024-02-01'")).toMatchObject({ access: "index_range", index: { field: "d", range: { lower: { value: "2024-02-01T00:00:00.000Z", inclusive: false }, upper: null } } });
    expect(await planOf("SELECT id FROM items WHERE n < 'x'")).toMatchObject({ access: "index_range", index: { range: { lower: null, upper: { value: "x" } } } });
    expect(await planOf("SELECT id FROM items WHERE tags > 'g5' AND tags < 'h1'")).toMatchObject({ access: "index_range", index: { range: { lower: { value: "g5" }, upper: null } } });
  });

  it("LIKE 'prefix%' → index_prefix; other patterns and unindexed fields → scan", async () => {
    expect(await planOf("SELECT id FROM items WHERE title LIKE 't01%'")).toMatchObject({ access: "index_prefix", index: { field: "title", prefix: "t01" } });
    expect(await planOf("SELECT id FROM items WHERE title LIKE 't0_5'")).toMatchObject({ access: "index_prefix", index: { prefix: "t0" } });
    expect(await planOf("SELECT id FROM items WHERE title LIKE '%1'")).toMatchObject({ access: "scan", index: null });
    expect(await planOf("SELECT id FROM items WHERE note LIKE 'note%'")).toMatchObject({ access: "scan" });
  });

  it("id = / id IN → id_lookup, which beats every index", async () => {
    expect(await planOf(`SELECT id FROM items WHERE id = '${ids[5]}' AND cat = 'a'`)).toMatchObject({ access: "id_lookup", index: { field: "id", values: [ids[5]] }, estimated_rows: 1 });
    const two = [ids[9]!, ids[3]!].sort();
    expect(await planOf(`SELECT id FROM items WHERE id IN ('${ids[9]}', '${ids[3]}', 'nope') LIMIT 5`)).toMatchObject({ access: "id_lookup", index: { values: two }, estimated_rows: 2 });
  });

  it("priority: equality > IN > prefix > range > IS NULL", async () => {
    expect(await planOf("SELECT id FROM items WHERE n IN (1, 2) AND cat = 'a'")).toMatchObject({ access: "index_eq", index: { field: "cat" } });
    expect(await planOf("SELECT id FROM items WHERE title LIKE 't1%' AND n IN (1, 2)")).toMatchObject({ access: "index_in", index: { field: "n" } });
    expect(await planOf("SELECT id FROM items WHERE n > 3 AND title LIKE 't1%'")).toMatchObject({ access: "index_prefix" });
    expect(await planOf("SELECT id FROM items WHERE cat IS NULL AND n > 3")).toMatchObject({ access: "index_range", index: { field: "n" } });
  });

  it("OR, NOT, != and unindexed fields fall back to a scan, and say so", async () => {
    for (const where of ["cat = 'a' OR note = 'x'", "NOT cat = 'a'", "cat != 'a'", "cat NOT IN ('a')", "note = 'note 1'", "cat IS NOT NULL", "n = NULL"]) {
      const plan = await planOf(`SELECT id FROM items WHERE ${where}`);
      expect(plan, where).toMatchObject({ access: "scan", index: null, residual: true });
      expect(plan.note).toMatch(/^full scan of every items entity: no top-level AND term can use an index \(indexed fields: cat, d, n, tags, title/);
    }
    expect(await planOf("SELECT id FROM items")).toMatchObject({ access: "scan", residual: false, order: "none" });
  });

  it("an OR whose every branch can use an index → index_union (merged in id order when each branch is)", async () => {
    expect(await planOf("SELECT id FROM items WHERE cat = 'a' OR n = 1")).toMatchObject({
      access: "index_union",
      index: { field: "cat, n", union: [{ access: "index_eq", index: { field: "cat", values: ["a"] } }, { access: "index_eq", index: { field: "n", values: [1] } }] },
      order: "none",
    });
    expect(await planOf(`SELECT id FROM items WHERE n IN (1, 2) OR id = '${ids[7]}' OR tags = 'g2'`)).toMatchObject({ access: "index_union", order: "none" });
    expect(await planOf("SELECT id FROM items WHERE (n > 45 OR title LIKE 't01%' OR cat IS NULL) AND note != 'note 1'")).toMatchObject({ access: "index_union", order: "memory" });
    expect(await planOf("SELECT id FROM items WHERE (cat = 'b' AND n < 3) OR (tags = 'h1' AND note = 'note 2')")).toMatchObject({ access: "index_union", index: { union: [{ access: "index_eq" }, { access: "index_eq" }] } });
    expect(await planOf("SELECT id FROM items WHERE cat = 'a' OR n = 1 ORDER BY title LIMIT 5")).toMatchObject({ access: "index_order", index: { field: "title" } });
    expect((await f.query("SELECT id FROM items WHERE cat = 'a' OR n = 1 LIMIT 7")).rows).toHaveLength(7);
  });

  it("a schema without indexes is scanned", async () => {
    const g = await queryFixture("plain", { type: "object", properties: { a: { type: "string" } } });
    try {
      const plan = await g.explain("SELECT * FROM plain WHERE a = 'x'");
      expect(plan).toMatchObject({ access: "scan", index: null });
      expect(plan.note).toMatch(/schema plain has no indexed fields/);
    } finally {
      await g.close();
    }
  });
});

describe("ORDER BY plans", () => {
  it("a single indexed field with a LIMIT and no equality: the index in order (index_order)", async () => {
    expect(await planOf("SELECT id FROM items ORDER BY n LIMIT 5")).toMatchObject({ access: "index_order", index: { field: "n", direction: "asc" }, order: "index", estimated_rows: 5 });
    expect(await planOf("SELECT id FROM items ORDER BY n DESC LIMIT 5 OFFSET 3")).toMatchObject({ access: "index_order", index: { direction: "desc" }, order: "index" });
    expect(await planOf("SELECT id FROM items ORDER BY n, id LIMIT 5")).toMatchObject({ access: "index_order" });
    expect(await planOf("SELECT id FROM items WHERE note = 'note 3' ORDER BY d DESC LIMIT 4")).toMatchObject({ access: "index_order", index: { field: "d" } });
    expect(await planOf("SELECT id FROM items ORDER BY cat LIMIT 40")).toMatchObject({ access: "index_order" });
    expect(await planOf("SELECT id FROM items ORDER BY cat DESC LIMIT 40")).toMatchObject({ access: "index_order" });
  });

  it("under a range or prefix on the same field, the index is read in order within it", async () => {
    expect(await planOf("SELECT id FROM items WHERE n > 45 ORDER BY n")).toMatchObject({ access: "index_order", index: { field: "n", range: { lower: { value: 45, inclusive: false }, upper: null } }, order: "index" });
    expect(await planOf("SELECT id FROM items WHERE title LIKE 't1%' ORDER BY title DESC")).toMatchObject({ access: "index_order", index: { field: "title", prefix: "t1", direction: "desc" } });
    expect(await planOf("SELECT id FROM items WHERE cat IS NULL ORDER BY cat LIMIT 3")).toMatchObject({ access: "index_order", index: { values: [null] } });
  });

  it("without LIMIT, another field's range is used and rows are sorted in memory", async () => {
    expect(await planOf("SELECT id FROM items WHERE cat > 'a' ORDER BY n")).toMatchObject({ access: "index_range", index: { field: "cat" }, order: "memory" });
    expect(await planOf("SELECT id FROM items WHERE cat > 'a' ORDER BY n LIMIT 3")).toMatchObject({ access: "index_order", index: { field: "n" } });
    expect(await planOf("SELECT id FROM items ORDER BY n")).toMatchObject({ access: "index_order" });
  });

  it("an equality wins over ORDER BY (sorted in memory); several keys, unindexed and array fields sort in memory", async () => {
    expect(await planOf("SELECT id FROM items WHERE cat = 'a' ORDER BY n LIMIT 5")).toMatchObject({ access: "index_eq", order: "memory" });
    expect(await planOf("SELECT id FROM items ORDER BY n, title LIMIT 5")).toMatchObject({ access: "scan", order: "memory" });
    expect(await planOf("SELECT id FROM items ORDER BY note LIMIT 5")).toMatchObject({ access: "scan", order: "memory" });
    expect(await planOf("SELECT id FROM items ORDER BY id DESC LIMIT 5")).toMatchObject({ access: "scan", order: "memory" });
  });

  it("ORDER BY id ascending is the scan's own order", async () => {
    expect(await planOf("SELECT id FROM items ORDER BY id LIMIT 3")).toMatchObject({ access: "scan", order: "index" });
  });

  it("DESC breaks ties by id ascending, like every other order", async () => {
    const rows = (await f.query("SELECT id, n FROM items ORDER BY n DESC LIMIT 40")).rows;
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1]!, rows[i]!];
      expect((a.n as number) > (b.n as number) || (a.n === b.n && (a.id as string) < (b.id as string))).toBe(true);
    }
  });
});

describe("streaming: plans in result order stop early", () => {
  async function reads(sql: string, options: { pageSize?: number; cursor?: string } = {}): Promise<{ gets: number; scanned: number; plan: Plan }> {
    const store = f.fx.store;
    // Entities read by id, one at a time or in batches (getEntitiesIn).
    const one = vi.spyOn(store, "getEntityIn");
    const many = vi.spyOn(store, "getEntitiesIn");
    const scan = store.scanSchema.bind(store);
    let scanned = 0;
    const spy = vi.spyOn(store, "scanSchema").mockImplementation(async function* (schema: string, afterId?: string): AsyncGenerator<EntityRecord> {
      for await (const rec of scan(schema, afterId)) {
        scanned++;
        yield rec;
      }
    });
    try {
      const r = await f.query(sql, options);
      return { gets: one.mock.calls.length + many.mock.calls.reduce((n, [, ids]) => n + ids.length, 0), scanned, plan: r.plan };
    } finally {
      one.mockRestore();
      many.mockRestore();
      spy.mockRestore();
    }
  }

  it("index_order + LIMIT reads OFFSET+LIMIT entities, not the table", async () => {
    expect(await reads("SELECT * FROM items ORDER BY n LIMIT 5")).toMatchObject({ gets: 5, scanned: 0 });
    expect(await reads("SELECT * FROM items ORDER BY n DESC LIMIT 5 OFFSET 5")).toMatchObject({ gets: 10, scanned: 0 });
    expect(await reads("SELECT * FROM items WHERE note = 'note 1' ORDER BY title LIMIT 3")).toMatchObject({ scanned: 0 });
    expect((await reads("SELECT * FROM items WHERE note = 'note 1' ORDER BY title LIMIT 3")).gets).toBeLessThan(40);
  });

  it("a scan with LIMIT and no ORDER BY stops early", async () => {
    expect(await reads("SELECT * FROM items LIMIT 3")).toMatchObject({ scanned: 3, gets: 0 });
    expect(await reads("SELECT * FROM items WHERE note = 'note 2' LIMIT 2")).toMatchObject({ gets: 0 });
    expect((await reads("SELECT * FROM items WHERE note = 'note 2' LIMIT 2")).scanned).toBeLessThan(N); // ids are random: where the 2nd match sits varies
  });

  it("equality and IN stream in id order and stop early", async () => {
    expect(await reads("SELECT * FROM items WHERE cat = 'a' LIMIT 4")).toMatchObject({ gets: 4, scanned: 0 });
    expect(await reads("SELECT * FROM items WHERE cat IN ('a', 'c') LIMIT 4")).toMatchObject({ gets: 4, scanned: 0 });
    expect(await reads("SELECT * FROM items WHERE cat = 'a' OR n = 1 LIMIT 4")).toMatchObject({ scanned: 0 });
    // Each branch reads a first batch of LIMIT ids, and the merge looks one row ahead.
    expect((await reads("SELECT * FROM items WHERE cat = 'a' OR n = 1 LIMIT 4")).gets).toBeLessThanOrEqual(10);
  });

  it("a page stops one row after the page (to know whether another follows)", async () => {
    const first = await f.query("SELECT * FROM items ORDER BY n", { pageSize: 10 });
    expect(first.rows).toHaveLength(10);
    expect(await reads("SELECT * FROM items ORDER BY n", { pageSize: 10 })).toMatchObject({ gets: 11, scanned: 0 });
    expect(await reads("SELECT * FROM items ORDER BY n", { pageSize: 10, cursor: first.next_cursor! })).toMatchObject({ gets: 11, scanned: 0 });
  });

  it("sorting in memory reads every match", async () => {
    expect((await reads("SELECT * FROM items ORDER BY note LIMIT 1")).scanned).toBe(N);
  });
});
