import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../../events/model/json-value.js";
import { exportPlan, type ExportPlan } from "../../projections/parquet/columns.js";
import { RowBuilder } from "../../projections/parquet/rows.js";
import { pack, unpack, type EntityRecord } from "../../projections/store/records.js";
import { parseSchema } from "../../schema/definition.js";
import { builtRows } from "./helpers.js";

const SCHEMA: JsonObject = {
  name: "mix",
  type: "object",
  properties: {
    s: { type: "string" },
    n: { type: "number" },
    i: { type: "integer" },
    b: { type: "boolean" },
    ts: { type: "string", format: "date-time" },
    d: { type: "string", format: "date" },
    u: { type: "string", format: "uuid" },
    tags: { type: "array", items: { type: "string" } },
    nested: { type: "object", properties: { a: { type: "string" }, k: { type: "integer" }, l: { type: "array", items: { type: "number" } } } },
    free: { type: "object" },
  },
};

// Values of the right type, and of wrong ones (the log may hold anything): both paths must agree on all of them.
const anyJson = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>;
const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 30 }), fc.constantFrom("", "a\u0000b", "exactly12byt", "thirteen byte"));
const value = (right: fc.Arbitrary<JsonValue>) => fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: anyJson });
const data = fc.record(
  {
    s: value(text),
    n: value(fc.double({ noNaN: true, noDefaultInfinity: true })),
    i: value(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constant(2 ** 60))),
    b: value(fc.boolean()),
    ts: value(fc.oneof(fc.date({ noInvalidDate: true, min: new Date("0001-01-01"), max: new Date("9999-12-31") }).map((d) => d.toISOString()), fc.constantFrom("2024-01-01T00:00:00.1234567+05:30", "2024-02-30T00:00:00Z", "2016-12-31T23:59:60Z"))),
    d: value(fc.constantFrom("2024-02-29", "2023-02-29", "1999-12-31", "0000-01-01")),
    u: value(fc.oneof(fc.uuid(), fc.uuid().map((x) => x.toUpperCase()))),
    tags: value(fc.array(text, { maxLength: 4 })),
    nested: value(fc.record({ a: value(text), k: value(fc.integer()), l: value(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 3 })), extra: fc.boolean() }, { requiredKeys: [] })),
    free: anyJson,
    undeclared: anyJson,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<JsonObject>;

describe("row builders: decoded records and stored bytes write the same values", () => {
  let db: DuckDBInstance;
  let plan: ExportPlan;
  beforeAll(async () => {
    db = await DuckDBInstance.create(":memory:");
    plan = exportPlan(parseSchema(SCHEMA), { embeddings: false });
  });
  afterAll(() => db.closeSync());

  const write = (table: string, fill: (b: RowBuilder) => void) => builtRows(db, plan, table, fill);

  it("holds for random data, including values of the wrong type", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(data, fc.boolean()), { minLength: 1, maxLength: 40 }), async (rows) => {
        const recs: EntityRecord[] = rows.map(([d, deleted], k) => ({ id: randomUUID(), schema: "mix", data: d, created_at: 1_700_000_000_000 + k, modified_at: 1_700_000_000_500 + k, deleted_at: deleted ? 1_700_000_001_000 : null, seq: k + 1 }));
        // Delta rows are records read back from the store: decoded from the same bytes.
        const decoded = await write("a", (b) => recs.filter((r) => r.deleted_at === null).forEach((rec) => b.add({ rec: unpack<EntityRecord>(pack(rec)), deleted: false })));
        const encoded = await write("b", (b) => recs.forEach((rec) => b.addEncoded(Buffer.from(pack(rec)), true)));
        expect(encoded).toEqual(decoded);
        // And nothing is lost: every field the columns could not hold is in _extra.
        expect(decoded).toHaveLength(recs.filter((r) => r.deleted_at === null).length);
      }),
      { numRuns: 150 },
    );
  });
});
