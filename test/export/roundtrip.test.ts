import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { insertEntities, registerSchema } from "../../src/node/writes.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";
import { analytics, appendRaw, sql, upsertEvent } from "./helpers.js";

/** One property of every JSON Schema shape the export maps (docs/analytics.md, "Columns"). */
const ALL_TYPES: JsonObject = {
  name: "everything",
  type: "object",
  $defs: { Point: { type: "object", properties: { x: { type: "number" }, y: { type: "number" } } } },
  properties: {
    s: { type: "string" },
    n: { type: "number" },
    i: { type: "integer" },
    b: { type: "boolean" },
    ts: { type: "string", format: "date-time" },
    d: { type: "string", format: "date" },
    u: { type: "string", format: "uuid" },
    e: { enum: ["red", "green"] },
    opt: { type: ["string", "null"] },
    maybe_int: { anyOf: [{ type: "integer" }, { type: "null" }] },
    tags: { type: "array", items: { type: "string" } },
    scores: { type: "array", items: { type: "number" } },
    when_list: { type: "array", items: { type: "string", format: "date-time" } },
    nested: { type: "object", properties: { a: { type: "string" }, k: { type: "integer" }, deep: { type: "object", properties: { ok: { type: "boolean" } } } } },
    pairs: { type: "array", items: { type: "object", properties: { key: { type: "string" }, value: { type: "number" } } } },
    point: { $ref: "#/$defs/Point" },
    free: { type: "object" },
    anything: {},
    mixed: { anyOf: [{ type: "string" }, { type: "integer" }] },
    matrix: { type: "array", items: { type: "array", items: { type: "integer" } } },
  },
};

const EXPECTED_TYPES: Record<string, string> = {
  id: "UUID",
  entity_type: "VARCHAR",
  created_at: "TIMESTAMP",
  modified_at: "TIMESTAMP",
  deleted_at: "TIMESTAMP",
  s: "VARCHAR",
  n: "DOUBLE",
  i: "BIGINT",
  b: "BOOLEAN",
  ts: "TIMESTAMP",
  d: "DATE",
  u: "UUID",
  e: "VARCHAR",
  opt: "VARCHAR",
  maybe_int: "BIGINT",
  tags: "VARCHAR[]",
  scores: "DOUBLE[]",
  when_list: "TIMESTAMP[]",
  // Registration stores the definition canonically (keys sorted), so struct fields come in key order.
  nested: "STRUCT(a VARCHAR, deep STRUCT(ok BOOLEAN), k BIGINT)",
  pairs: 'STRUCT("key" VARCHAR, "value" DOUBLE)[]',
  point: "STRUCT(x DOUBLE, y DOUBLE)",
  free: "JSON",
  anything: "JSON",
  mixed: "JSON",
  matrix: "BIGINT[][]",
  _extra: "JSON",
  _seq: "BIGINT",
};

const LONG = "a string longer than twelve bytes, with ünïcödé and an emoji 🎉";

/** Entities as inserted, and each field as `rem sql` returns it. */
const CASES: { input: JsonObject; expect: JsonObject }[] = [
  {
    input: {
      s: "short",
      n: 3.25,
      i: 9007199254740991,
      b: true,
      ts: "2024-03-01T10:00:00.123456+02:00",
      d: "2024-02-29",
      u: "0b1a3c4d-0000-4000-8000-000000000001",
      e: "green",
      opt: "x",
      maybe_int: -42,
      tags: ["a", LONG, ""],
      scores: [1.5, -0, 1e300],
      when_list: ["1970-01-01T00:00:00Z", "2262-04-11T23:47:16.854775Z"],
      nested: { a: LONG, k: -1, deep: { ok: false } },
      pairs: [{ key: "k1", value: 1 }, { key: "k2" }],
      point: { x: 1, y: -2.5 },
      free: { any: ["thing", 1, null, { deep: true }] },
      anything: [1, "two", { three: 3 }],
      mixed: 7,
      matrix: [[1, 2], [], [3]],
    },
    expect: {
      s: "short",
      n: 3.25,
      i: 9007199254740991,
      b: true,
      ts: "2024-03-01T08:00:00.123456Z",
      d: "2024-02-29",
      u: "0b1a3c4d-0000-4000-8000-000000000001",
      e: "green",
      opt: "x",
      maybe_int: -42,
      tags: ["a", LONG, ""],
      scores: [1.5, 0, 1e300],
      when_list: ["1970-01-01T00:00:00.000Z", "2262-04-11T23:47:16.854775Z"],
      nested: { a: LONG, k: -1, deep: { ok: false } },
      pairs: [{ key: "k1", value: 1 }, { key: "k2", value: null }],
      point: { x: 1, y: -2.5 },
      free: { any: ["thing", 1, null, { deep: true }] },
      anything: [1, "two", { three: 3 }],
      mixed: 7,
      matrix: [[1, 2], [], [3]],
      _extra: null,
    },
  },
  {
    // Missing and null values are NULL; the unicode string is longer than DuckDB's 12-byte inline strings.
    input: { s: "ünï", opt: null, tags: [], nested: { a: "x" }, ts: "1969-12-31T23:59:59.999Z", d: "0001-01-01", mixed: "text" },
    expect: {
      s: "ünï",
      n: null,
      i: null,
      b: null,
      ts: "1969-12-31T23:59:59.999Z",
      d: "0001-01-01",
      u: null,
      e: null,
      opt: null,
      maybe_int: null,
      tags: [],
      scores: null,
      when_list: null,
      nested: { a: "x", k: null, deep: null },
      pairs: null,
      point: null,
      free: null,
      anything: null,
      mixed: "text",
      matrix: null,
      _extra: null,
    },
  },
];

describe("export round trip: every JSON Schema type through Parquet and back", () => {
  let fx: TenantFixture;
  let ids: string[];

  beforeAll(async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, ALL_TYPES);
    ids = (await insertEntities(fx.tenant, "everything", CASES.map((c) => c.input))).ids;
  });
  afterAll(() => fx.close());

  it("maps each property to its DuckDB type", async () => {
    const cols = await sql(fx, "SELECT column_name, column_type FROM (DESCRIBE everything)");
    const types = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
    expect(types).toEqual(EXPECTED_TYPES);
  });

  it("reads every value back as it was written (timestamps as UTC instants)", async () => {
    for (const [k, c] of CASES.entries()) {
      const [row] = await sql(fx, `SELECT * FROM everything WHERE id = '${ids[k]}'`);
      expect(row).toBeDefined();
      const { id, entity_type, created_at, modified_at, deleted_at, _seq, ...fields } = row!;
      expect(id).toBe(ids[k]);
      expect(entity_type).toBe("everything");
      expect(typeof created_at).toBe("string");
      expect(modified_at).toBe(created_at);
      expect(deleted_at).toBeNull();
      expect(typeof _seq).toBe("number");
      expect(fields).toEqual(c.expect);
    }
  });

  it("keeps system fields equal to the entity's", async () => {
    const rec = fx.tenant.store.getEntity(ids[0]!)!;
    const [row] = await sql(fx, `SELECT created_at, modified_at, _seq FROM everything WHERE id = '${ids[0]}'`);
    expect(row).toEqual({ created_at: new Date(rec.created_at).toISOString(), modified_at: new Date(rec.modified_at).toISOString(), _seq: rec.seq });
  });

  it("keeps what the typed columns cannot hold in _extra: undeclared fields and values of the wrong type", async () => {
    const id = randomUUID();
    // Appended raw, as `rem log append` can: the log holds whatever it was given, and the export must not lose it.
    await appendRaw(fx.tenant, [upsertEvent("everything", id, { s: 12, i: 1.5, ts: "not a time", u: "0B1A3C4D-0000-4000-8000-000000000001", tags: ["ok", 3], nested: { a: "x", surprise: 1 }, undeclared: { v: [1, 2] } })]);
    const [row] = await sql(fx, `SELECT s, i, ts, u, tags, nested, _extra FROM everything WHERE id = '${id}'`);
    expect(row).toEqual({
      s: null,
      i: null,
      ts: null,
      u: null,
      tags: ["ok", null],
      nested: { a: "x", k: null, deep: null },
      _extra: { i: 1.5, nested: { a: "x", surprise: 1 }, s: 12, tags: ["ok", 3], ts: "not a time", u: "0B1A3C4D-0000-4000-8000-000000000001", undeclared: { v: [1, 2] } },
    });
  });

  it("writes the same rows when rebuilt from scratch", async () => {
    const before = await sql(fx, "SELECT * FROM everything ORDER BY id");
    await analytics(fx).catchUp({ rebuild: true });
    expect(await sql(fx, "SELECT * FROM everything ORDER BY id")).toEqual(before);
  });
});
