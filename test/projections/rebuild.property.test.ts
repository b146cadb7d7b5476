import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dumpStore } from "../support/store-dump.js";
import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { tenantName, type Seq } from "../../events/model/ids.js";
import { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import type { LogBackend } from "../../events/log/types.js";
import type { ProjectionStore } from "../../projections/store/store.js";
import { indexValues } from "../../projections/indexing.js";
import { naturalKey } from "../../schema/ids.js";
import { embeddableText, textHash } from "../../projections/apply/embeddings.js";
import { projectionFixture } from "../support/projection-fixture.js";
import { useNatsServer } from "../support/nats-fixture.js";

// A small world so operations collide: few schemas, ids, edge types.
const IDS = Array.from({ length: 6 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
const SCHEMAS = ["alpha", "beta"];
const FIELDS = { title: { type: "string" }, n: { type: "integer" }, when: { type: "string", format: "date-time" }, tags: { type: "array", items: { type: "string" } } };

const schemaDef = fc.record({
  indexed: fc.subarray(Object.keys(FIELDS)),
  keyField: fc.constantFrom(null, "title"),
  embedded: fc.boolean(),
  provider: fc.constantFrom("local:hash-384", "openai:small"),
});
const data = fc.record(
  {
    title: fc.constantFrom("a", "b", "c"),
    n: fc.integer({ min: -3, max: 3 }),
    when: fc.constantFrom("2025-01-01T00:00:00Z", "2025-06-01T12:00:00+02:00"),
    tags: fc.array(fc.constantFrom("x", "y", "z"), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

type Op =
  | { kind: "schema"; schema: string; indexed: string[]; keyField: string | null; embedded: boolean; provider: string }
  | { kind: "embed"; id: string; schema: string; text: string; dim: number }
  | { kind: "drop"; schema: string }
  | { kind: "upsert"; id: string; schema: string; data: JsonObject }
  | { kind: "delete"; id: string; schema: string }
  | { kind: "edge"; src: string; dst: string; type: string; add: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("schema" as const), schema: fc.constantFrom(...SCHEMAS), def: schemaDef }).map(({ def, ...r }) => ({ ...r, ...def })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), schema: fc.constantFrom(...SCHEMAS) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("upsert" as const), id: fc.constantFrom(...IDS), schema: fc.constantFrom(...SCHEMAS), data: data as fc.Arbitrary<JsonObject> }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), id: fc.constantFrom(...IDS), schema: fc.constantFrom(...SCHEMAS) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("embed" as const), id: fc.constantFrom(...IDS), schema: fc.constantFrom(...SCHEMAS), text: fc.constantFrom("a", "b", "c"), dim: fc.constantFrom(3, 3, 3, 4) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("edge" as const), src: fc.constantFrom(...IDS), dst: fc.constantFrom(...IDS), type: fc.constantFrom("r", "s"), add: fc.boolean() }) },
);
const commits = fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 14 });

function toEvent(o: Op): Event {
  const id = randomUUID();
  switch (o.kind) {
    case "schema":
      return {
        type: "schema.registered",
        v: 1,
        id,
        name: o.schema,
        definition: { type: "object", properties: FIELDS, indexed_fields: o.indexed, ...(o.keyField ? { key_field: o.keyField } : {}), ...(o.embedded ? { embedding_fields: ["title"], embedding_provider: o.provider } : {}) },
      };
    case "embed":
      return { type: "embedding.recorded", v: 1, id, entity_id: o.id, schema: o.schema, field: "title", model: "m", dim: o.dim, vector: Float32Array.from({ length: o.dim }, (_, i) => i + o.text.length), text_hash: textHash(o.text) };
    case "drop":
      return { type: "schema.dropped", v: 1, id, name: o.schema };
    case "upsert":
      return { type: "entity.upserted", v: 1, id, entity_id: o.id, schema: o.schema, data: o.data };
    case "delete":
      return { type: "entity.deleted", v: 1, id, entity_id: o.id, schema: o.schema };
    case "edge":
      return o.add ? { type: "edge.added", v: 1, id, src: o.src, dst: o.dst, edge_type: o.type, props: {} } : { type: "edge.removed", v: 1, id, src: o.src, dst: o.dst, edge_type: o.type };
  }
}

/**
 * Index consistency: the field index and key index hold exactly the entries the
 * live entities' current data produce, under their schema's current definition.
 */
async function checkIndexes(store: ProjectionStore): Promise<void> {
  const expectedIdx = new Set<string>();
  const expectedKeys = new Map<string, Set<string>>();
  for (const s of await store.listSchemas()) {
    const spec = store.schemaSpec(s.name)!;
    for await (const rec of store.scanSchema(s.name)) {
      if (rec.deleted_at !== null) continue;
      for (const f of spec.indexedFields) {
        const info = spec.fields.get(f)!;
        for (const v of indexValues(info.kind, info.items, rec.data[f])) expectedIdx.add(Buffer.from(store.indexKey(s.name, f, v, rec.id)).toString("hex"));
      }
      const nk = naturalKey(spec.keyField, rec.data);
      if (nk !== null) expectedKeys.set(nk, (expectedKeys.get(nk) ?? new Set()).add(rec.id));
    }
  }
  const actualIdx = new Set<string>();
  for await (const k of store.idx.keys()) actualIdx.add(Buffer.from(k).toString("hex"));
  expect(actualIdx).toEqual(expectedIdx);
  for (const [key, ids] of expectedKeys) expect(new Set(store.lookupKey(key).map((x) => x.id))).toEqual(ids);
  let keyEntries = 0;
  for await (const _ of store.keys.keys()) keyEntries++;
  expect(keyEntries).toBe(expectedKeys.size);
  // The embedding backlog: a live entity's embedded text is pending exactly when it has no vector for that text.
  const pending = new Set((await store.pendingEmbeddings(1_000_000)).map((p) => `${p.schema} ${p.field} ${p.id}`));
  const expectedPending = new Set<string>();
  for (const s of await store.listSchemas()) {
    const spec = store.schemaSpec(s.name)!;
    for await (const rec of store.scanSchema(s.name)) {
      for (const field of spec.embeddingFields) {
        const text = rec.deleted_at === null ? embeddableText(rec, field) : null;
        const v = store.getVector(s.name, field, rec.id);
        if (rec.deleted_at !== null) expect(v).toBeUndefined();
        if (text !== null && (v === undefined || v.text_hash !== textHash(text))) expectedPending.add(`${s.name} ${field} ${rec.id}`);
      }
    }
  }
  expect(pending).toEqual(expectedPending);
}

/** An independent model of what the projection should hold. */
function model(all: Op[][]) {
  const schemas = new Set<string>();
  const entities = new Map<string, { schema: string; data: JsonObject; deleted: boolean }>();
  const edges = new Set<string>();
  for (const ops of all) {
    for (const o of ops) {
      if (o.kind === "schema") schemas.add(o.schema);
      if (o.kind === "drop" && schemas.delete(o.schema)) for (const [id, e] of entities) if (e.schema === o.schema) entities.delete(id);
      if (o.kind === "upsert") entities.set(o.id, { schema: o.schema, data: o.data, deleted: false });
      if (o.kind === "delete" && entities.has(o.id)) entities.get(o.id)!.deleted = true;
      if (o.kind === "edge") (o.add ? edges.add(`${o.src} ${o.type} ${o.dst}`) : edges.delete(`${o.src} ${o.type} ${o.dst}`));
    }
  }
  return { schemas, entities, edges };
}

function describeRebuild(name: string, backend?: () => (dir: string) => Promise<LogBackend>): void {
  describe(`projections rebuilt by replay (${name})`, () => {
    it("incremental = rebuilt from scratch = rebuilt after a crash between any two commits = the model", async () => {
      await fc.assert(
        fc.asyncProperty(commits, fc.nat(), async (cs, crashPick) => {
          const fx = await projectionFixture({ tenant: tenantName(`p${randomUUID().slice(0, 8)}`), backend: backend?.() });
          try {
            for (const ops of cs) await fx.commit(ops.map(toEvent));
            const incremental = await dumpStore(fx.store);
            await checkIndexes(fx.store);

            // The model agrees with what the store holds.
            const m = model(cs);
            expect(new Set((await fx.store.listSchemas()).map((s) => s.name))).toEqual(m.schemas);
            for (const id of IDS) {
              const rec = fx.store.getEntity(id);
              const want = m.entities.get(id);
              expect(rec === undefined ? undefined : { schema: rec.schema, data: rec.data, deleted: rec.deleted_at !== null }).toEqual(want);
            }
            const stored = new Set<string>();
            for (const id of IDS) for (const [t, dst] of fx.store.adjacency(id, "out")) stored.add(`${id} ${t} ${dst}`);
            expect(stored).toEqual(m.edges);

            // A full replay into an empty store.
            await fx.reopenStore("rebuilt");
            await fx.runner.catchUp();
            expect(await dumpStore(fx.store)).toEqual(incremental);

            // A crash after commit k (the store holds 1..k), then a restart that catches up.
            const k = crashPick % (cs.length + 1);
            await fx.reopenStore("crashed");
            if (k > 0) await fx.runner.catchUp({ until: k as Seq });
            expect(fx.store.checkpoint?.seq ?? 0).toBe(k);
            await fx.reopenStore("crashed");
            await fx.runner.catchUp();
            expect(await dumpStore(fx.store)).toEqual(incremental);
          } finally {
            await fx.close();
          }
        }),
        { numRuns: Number(process.env.REM_PROPERTY_RUNS ?? (name === "embedded file log" ? 40 : 15)) },
      );
    });
  });
}

describeRebuild("embedded file log");

const nats = useNatsServer();
describeRebuild("NATS JetStream", () => async () => JetStreamLog.open({ nc: nats.nc, tenant: tenantName(`j${randomUUID().slice(0, 8)}`), create: true }));
