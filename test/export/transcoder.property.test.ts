import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../../events/model/json-value.js";
import { exportPlan, type ColumnType, type ExportPlan } from "../../projections/parquet/columns.js";
import { RowBuilder } from "../../projections/parquet/rows.js";
import { compileTranscoder } from "../../projections/parquet/transcoder.js";
import { pack } from "../../projections/store/records.js";
import { parseSchema } from "../../schema/definition.js";
import { builtRows } from "./helpers.js";

// Property schemas of every kind the export maps, nested (lists of structs of lists…), plus shapes that become JSON.
const leaf = fc.constantFrom<JsonObject>(
  { type: "string" },
  { type: "string", format: "date-time" },
  { type: "string", format: "date" },
  { type: "string", format: "uuid" },
  { type: "number" },
  { type: "integer" },
  { type: "boolean" },
  { type: ["integer", "null"] },
  { anyOf: [{ type: "string" }, { type: "null" }] },
  { enum: ["a", "b"] },
  { enum: [1, 2] },
  { type: "object" },
  {},
  { type: ["string", "number"] },
);
// Keys that are short, long (past the unrolled comparison), non-ASCII, of equal length, or special to objects.
const key = fc.oneof(fc.constantFrom("a", "b", "ab", "ba", "title", "Title", "é", "__proto__", "constructor", "k".repeat(30), "k".repeat(29) + "j", "_seq", "x y"), fc.string({ minLength: 1, maxLength: 6 }));
const { prop } = fc.letrec<{ prop: JsonObject }>((tie) => ({
  prop: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    tie("prop").map((items): JsonObject => ({ type: "array", items })),
    fc.dictionary(key, tie("prop"), { minKeys: 1, maxKeys: 4 }).map((properties): JsonObject => ({ type: "object", properties })),
  ),
}));
const schema = fc.dictionary(key, prop, { maxKeys: 6 }).map((properties): JsonObject => ({ name: "mix", type: "object", properties }));

const anyJson = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>;
const text = fc.oneof(fc.string(), fc.string({ unit: "binary", maxLength: 20 }), fc.constantFrom("", "a\u0000b", "exactly12byt", "thirteen byte", "é".repeat(7)));
const dbl = fc.double({ noNaN: true, noDefaultInfinity: true });

/** A value for a column of this type: mostly of the type, sometimes anything (the log may hold anything). */
function valueOf(t: ColumnType): fc.Arbitrary<JsonValue> {
  const right = ((): fc.Arbitrary<JsonValue> => {
    switch (t.kind) {
      case "varchar":
        return text;
      case "double":
      case "float":
        return fc.oneof(dbl, fc.integer());
      case "bigint":
        return fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(2 ** 60, 2 ** 63, -(2 ** 63), 1.5));
      case "boolean":
        return fc.boolean();
      case "timestamp":
        return fc.oneof(fc.date({ noInvalidDate: true, min: new Date("0001-01-01"), max: new Date("9999-12-31") }).map((d) => d.toISOString()), fc.constantFrom("2024-01-01T00:00:00.1234567+05:30", "2024-02-30T00:00:00Z", "2016-12-31T23:59:60Z", "2024-01-01t00:00:00z", "2024-01-01T00:00:00", "2024-01-01T00:00:00.", "2024-01-01T00:00:00+05:3", "2024-01-01T00:00:00+05:30Z", "2024-01-01T00:00:00\uff3a", "\uff12024-01-01T00:00:00Z", "2300-01-01T00:00:00.000001Z"));
      case "date":
        return fc.constantFrom("2024-02-29", "2023-02-29", "1999-12-31", "0000-01-01", "2024-1-01", "2024-01-0", "2024-01-01x", "2024-01-0\u0661");
      case "uuid":
        return fc.oneof(fc.uuid(), fc.uuid().map((x) => x.toUpperCase()), fc.constant("not-a-uuid-but-36-characters-long-xx"));
      case "json":
        return anyJson;
      case "list":
        return fc.array(valueOf(t.child), { maxLength: 3 });
      case "struct": {
        const fields = Object.fromEntries(t.fields.map((f) => [f.key, valueOf(f.type)]));
        return fc.record({ ...fields, undeclared_key: anyJson }, { requiredKeys: [] }) as fc.Arbitrary<JsonValue>;
      }
    }
  })();
  return fc.oneof({ weight: 5, arbitrary: right }, { weight: 1, arbitrary: fc.oneof(anyJson, fc.constant(null)) });
}

function dataOf(plan: ExportPlan): fc.Arbitrary<JsonValue> {
  const fields = Object.fromEntries(plan.fields.map((f) => [f.field, valueOf(f.type)]));
  const obj = fc.record({ ...fields, undeclared: anyJson }, { requiredKeys: [] }) as fc.Arbitrary<JsonValue>;
  // Stored data is an object; a record that is not (written by an older REM, say) must not break either path.
  return fc.oneof({ weight: 20, arbitrary: obj }, { weight: 1, arbitrary: anyJson });
}

const input = schema.chain((def) => {
  const plan = exportPlan(parseSchema(def), { embeddings: false });
  const rec = fc.record({ data: dataOf(plan), deleted: fc.boolean() });
  return fc.record({ plan: fc.constant(plan), recs: fc.array(rec, { minLength: 1, maxLength: 30 }), liveOnly: fc.boolean() });
});

describe("generated transcoder", () => {
  let db: DuckDBInstance;
  beforeAll(async () => {
    db = await DuckDBInstance.create(":memory:");
  });
  afterAll(() => db.closeSync());

  const write = (plan: ExportPlan, table: string, fill: (b: RowBuilder) => void) => builtRows(db, plan, table, fill);

  it("writes what the builders write, for arbitrary records of arbitrary schemas", async () => {
    await fc.assert(
      fc.asyncProperty(input, async ({ plan, recs, liveOnly }) => {
        const bytes = recs.map(({ data, deleted }, k) => Buffer.from(pack({ id: randomUUID(), schema: "mix", data, created_at: 1_700_000_000_000 + k, modified_at: 1_700_000_000_500 + k, deleted_at: deleted ? 1_700_000_001_000 : null, seq: k + 1 })));
        const added: boolean[] = [];
        const reference = await write(plan, "a", (b) => bytes.forEach((x) => added.push(b.addEncoded(x, liveOnly))));
        const generated = await write(plan, "b", (b) => {
          const t = compileTranscoder(plan, b)!;
          bytes.forEach((x, k) => expect(t(x, liveOnly)).toBe(added[k]));
        });
        expect(generated).toEqual(reference);
      }),
      { numRuns: 200 },
    );
  });

  it("covers the benchmark's record layout with a chunk's worth of rows (builders grow past their first allocation)", async () => {
    const plan = exportPlan(parseSchema({ name: "mix", type: "object", properties: { t: { type: "string" }, l: { type: "array", items: { type: "array", items: { type: "integer" } } } } }), { embeddings: false });
    const bytes = Array.from({ length: 2048 }, (_, k) => Buffer.from(pack({ id: randomUUID(), schema: "mix", data: { t: `row ${k} with a longer title`, l: [[k, k + 1], [], [k]] }, created_at: k, modified_at: k, deleted_at: null, seq: k + 1 })));
    const reference = await write(plan, "a", (b) => bytes.forEach((x) => b.addEncoded(x, true)));
    const generated = await write(plan, "b", (b) => {
      const t = compileTranscoder(plan, b)!;
      bytes.forEach((x) => t(x, true));
    });
    expect(generated).toEqual(reference);
  });
});
