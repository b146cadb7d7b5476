import { randomUUID } from "node:crypto";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { ExportProjection } from "../../projections/parquet/export-projection.js";
import { SqlSession } from "../../src/sql/session.js";
import { executeQuery } from "../../src/query/mod.js";
import { unpack, type EdgeRecord } from "../../projections/store/records.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";
import { analytics, appendRaw } from "./helpers.js";

// A small world, so operations collide: ids reused across schemas (moves), deletes,
// re-creations, schema changes that add or drop a field, drops and re-registrations.
const IDS = Array.from({ length: 8 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
const SCHEMAS = ["alpha", "beta", "gamma"];

const definition = (name: string, withScore: boolean): JsonObject => ({
  name,
  type: "object",
  properties: {
    title: { type: "string" },
    n: { type: "integer" },
    tags: { type: "array", items: { type: "string" } },
    meta: { type: "object", properties: { k: { type: "string" } } },
    ...(withScore ? { score: { type: "number" } } : {}),
  },
});

const data = fc.record(
  {
    title: fc.oneof(fc.constantFrom("a", "b"), fc.string({ maxLength: 20 })),
    n: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(1.5)), // 1.5 does not fit the integer column: _extra
    tags: fc.array(fc.constantFrom("x", "y", "a tag longer than twelve bytes"), { maxLength: 3 }),
    meta: fc.record({ k: fc.constantFrom("p", "q") }, { requiredKeys: [] }),
    score: fc.double({ noNaN: true, noDefaultInfinity: true }),
    other: fc.constant("undeclared"),
  },
  { requiredKeys: [] },
);

type Op =
  | { kind: "upsert"; id: string; schema: string; data: JsonObject }
  | { kind: "delete"; id: string; schema: string }
  | { kind: "schema"; schema: string; withScore: boolean }
  | { kind: "drop"; schema: string }
  | { kind: "link"; src: string; dst: string; type: string }
  | { kind: "unlink"; src: string; dst: string; type: string }
  | { kind: "export" }
  | { kind: "compact" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("upsert" as const), id: fc.constantFrom(...IDS), schema: fc.constantFrom(...SCHEMAS), data: data as fc.Arbitrary<JsonObject> }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), id: fc.constantFrom(...IDS), schema: fc.constantFrom(...SCHEMAS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("schema" as const), schema: fc.constantFrom(...SCHEMAS), withScore: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), schema: fc.constantFrom(...SCHEMAS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("link" as const), src: fc.constantFrom(...IDS), dst: fc.constantFrom(...IDS), type: fc.constantFrom("links", "cites") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unlink" as const), src: fc.constantFrom(...IDS), dst: fc.constantFrom(...IDS), type: fc.constantFrom("links", "cites") }) },
  { weight: 3, arbitrary: fc.constant({ kind: "export" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "compact" as const }) },
);

function event(o: Op): Event | null {
  const id = randomUUID();
  switch (o.kind) {
    case "upsert":
      return { type: "entity.upserted", v: 1, id, entity_id: o.id, schema: o.schema, data: o.data };
    case "delete":
      return { type: "entity.deleted", v: 1, id, entity_id: o.id, schema: o.schema };
    case "schema":
      return { type: "schema.registered", v: 1, id, name: o.schema, definition: definition(o.schema, o.withScore) };
    case "drop":
      return { type: "schema.dropped", v: 1, id, name: o.schema };
    case "link":
      return { type: "edge.added", v: 1, id, src: o.src, dst: o.dst, edge_type: o.type, props: { at: o.type } };
    case "unlink":
      return { type: "edge.removed", v: 1, id, src: o.src, dst: o.dst, edge_type: o.type };
    default:
      return null;
  }
}

/** Every registered schema's rows (ordered), through a session over the given export. */
async function snapshot(fx: TenantFixture, exports: ExportProjection): Promise<Record<string, JsonObject[]>> {
  const m = await exports.manifest();
  const session = await SqlSession.open(exports.dir, m);
  try {
    const out: Record<string, JsonObject[]> = {};
    for (const rec of await fx.tenant.store.listSchemas()) {
      out[rec.name] = (await session.query(`SELECT * FROM ${rec.name} ORDER BY id`, { maxRows: Infinity, timeoutMs: 30_000 })).rows;
    }
    out._edges = (await session.query("SELECT * FROM _edges ORDER BY src, type, dst", { maxRows: Infinity, timeoutMs: 30_000 })).rows;
    return out;
  } finally {
    session.close();
  }
}

describe("export: incremental equals full rebuild equals the store", () => {
  it("holds for random histories with exports in between", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 10 }), async (history) => {
        const fx = await tenantFixture();
        try {
          // Every schema exists at first (a later drop removes it, a later register brings it back).
          await appendRaw(fx.tenant, SCHEMAS.map((s) => event({ kind: "schema", schema: s, withScore: false })!));
          for (const step of history) {
            const events = step.map(event).filter((e): e is Event => e !== null);
            if (events.length > 0) await appendRaw(fx.tenant, events);
            if (step.some((o) => o.kind === "export")) await analytics(fx).catchUp();
            if (step.some((o) => o.kind === "compact")) await analytics(fx).catchUp({ compact: true });
          }
          await analytics(fx).catchUp();
          const incremental = await snapshot(fx, analytics(fx).exports);

          const fresh = new ExportProjection(fx.tenant, join(fx.dir, "rebuilt-exports"));
          await fresh.catchUp();
          expect(incremental).toEqual(await snapshot(fx, fresh));

          // …and both hold exactly the store's live entities, with their system fields.
          for (const rec of await fx.tenant.store.listSchemas()) {
            const live: JsonObject[] = [];
            for await (const e of fx.tenant.store.scanSchema(rec.name)) {
              if (e.deleted_at === null) live.push({ id: e.id, created_at: new Date(e.created_at).toISOString(), modified_at: new Date(e.modified_at).toISOString(), _seq: e.seq });
            }
            expect(incremental[rec.name]!.map((r) => ({ id: r.id, created_at: r.created_at, modified_at: r.modified_at, _seq: r._seq }))).toEqual(live);
            const q = await executeQuery(fx.tenant.store, `SELECT COUNT(*) FROM ${rec.name}`);
            expect(incremental[rec.name]!.length).toBe(q.count);
          }
          const stored: JsonObject[] = [];
          for await (const [, v] of fx.tenant.store.edges.iterator()) {
            const e = unpack<EdgeRecord>(v);
            stored.push({ src: e.src, dst: e.dst, type: e.type });
          }
          const key = (e: JsonObject) => `${String(e.src)} ${String(e.type)} ${String(e.dst)}`;
          expect(incremental._edges!.map(key).sort()).toEqual(stored.map(key).sort());
        } finally {
          await fx.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
