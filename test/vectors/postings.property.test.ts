import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import type { IndexValue } from "../../projections/store/keys.js";
import { PostingLists } from "../../projections/vectors/postings.js";
import type { EmbeddingProvider } from "../../src/embeddings/provider.js";
import { deleteEntity, insertEntities, registerSchema } from "../../src/node/writes.js";
import { searchEntities } from "../../src/query/search.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";

const DIM = 8;

/** Vectors from a hash of the text: equal texts score equally, so ties are decided by id. */
const provider: EmbeddingProvider = {
  name: "test:hash8",
  model: "hash8",
  dim: DIM,
  async embed(texts) {
    return texts.map((t) => {
      let h = 2166136261;
      for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 16777619);
      return Float32Array.from({ length: DIM }, (_, i) => ((Math.imul(h, i + 3) >>> 0) % 2001) / 1000 - 1);
    });
  },
};
const providers = () => provider;

/** `tag` is indexed or not per schema version (a schema change drops and rebuilds its posting lists). */
function schema(tagIndexed: boolean): JsonObject {
  return {
    name: "notes",
    type: "object",
    properties: { title: { type: "string" }, body: { type: "string" }, tier: { type: "integer" }, tag: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
    required: ["title"],
    key_field: "title",
    indexed_fields: tagIndexed ? ["tier", "tag", "tags"] : ["tier", "tags"],
    embedding_fields: ["body"],
    embedding_provider: "test:hash8",
  };
}

const SLOTS = 16;
const TAGS = ["a", "b", "é", ""];
const BODIES = ["alpha", "beta", "gamma", "delta", "alpha"]; // a repeated text: equal scores

type Data = { tier?: number; tag?: string; tags?: string[]; body?: string };
const dataArb: fc.Arbitrary<Data> = fc.record(
  { tier: fc.integer({ min: 0, max: 3 }), tag: fc.constantFrom(...TAGS), tags: fc.array(fc.constantFrom(...TAGS), { maxLength: 3 }), body: fc.constantFrom(...BODIES) },
  { requiredKeys: [] },
);

/** A filter, as SQL and as the brute-force check of an entity's data. */
interface Filter {
  readonly where: string;
  readonly test: (d: Data) => boolean;
  /** For equality on one field: the value its posting list is looked up by. */
  readonly list?: { field: string; value: IndexValue };
}
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.integer({ min: 0, max: 4 }).map((k): Filter => ({ where: `tier = ${k}`, test: (d) => d.tier === k, list: { field: "tier", value: { t: "number", v: k } } })),
  fc.constantFrom(...TAGS).map((s): Filter => ({ where: `tag = '${s}'`, test: (d) => d.tag === s, list: { field: "tag", value: { t: "string", v: s } } })),
  fc.constantFrom(...TAGS).map((s): Filter => ({ where: `tags = '${s}'`, test: (d) => d.tags?.includes(s) === true, list: { field: "tags", value: { t: "string", v: s } } })),
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })).map(([a, b]): Filter => ({ where: `tier IN (${a}, ${b})`, test: (d) => d.tier === a || d.tier === b })),
  fc.tuple(fc.constantFrom(...TAGS), fc.constantFrom(...TAGS)).map(([a, b]): Filter => ({ where: `tags IN ('${a}', '${b}')`, test: (d) => d.tags?.includes(a) === true || d.tags?.includes(b) === true })),
);

type Op =
  | { op: "upsert"; slot: number; data: Data }
  | { op: "delete"; slot: number }
  | { op: "reopen" }
  | { op: "schema" }
  | { op: "probe"; filter: Filter; query: string; exactLimit: number | undefined };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("upsert" as const), slot: fc.nat(SLOTS - 1), data: dataArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), slot: fc.nat(SLOTS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ op: "reopen" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "schema" as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("probe" as const), filter: filterArb, query: fc.constantFrom(...BODIES, "omega"), exactLimit: fc.constantFrom(undefined, 1) }) },
);

let fx: TenantFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

describe("posting lists", () => {
  it("filtered search over posting lists equals brute force over the live entities, across upserts, updates, deletes, schema changes and reopens", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 24 }), async (ops) => {
        await fx?.close();
        fx = await tenantFixture();
        let tagIndexed = true;
        await registerSchema(fx.tenant, schema(tagIndexed));
        const model = new Map<number, { id: string; data: Data }>();
        for (const o of [...ops, { op: "probe", filter: { where: "tier = 1", test: (d: Data) => d.tier === 1 }, query: "beta", exactLimit: undefined } satisfies Op]) {
          const t = fx.tenant;
          switch (o.op) {
            case "upsert": {
              const r = await insertEntities(t, "notes", [{ title: `slot ${o.slot}`, ...o.data }], { providers });
              model.set(o.slot, { id: r.ids[0]!, data: o.data });
              break;
            }
            case "delete": {
              const m = model.get(o.slot);
              if (m === undefined) break;
              await deleteEntity(t, m.id);
              model.delete(o.slot);
              break;
            }
            case "reopen":
              await fx.reopen();
              break;
            case "schema":
              tagIndexed = !tagIndexed;
              await registerSchema(t, schema(tagIndexed));
              break;
            case "probe": {
              const vectors = await t.vectors();
              // Both sides of the switch: lists still building (LevelDB answers), then ready.
              for (const ready of [false, true]) {
                if (ready) await vectors.postings.idle();
                const matching = [...model.values()].filter((m) => o.filter.test(m.data));
                const [q] = await provider.embed([o.query]);
                const r = await searchEntities(t, { schema: "notes", vector: q!, topK: 5, where: o.filter.where, exactLimit: o.exactLimit }, providers);
                const index = vectors.index("notes", "body");
                const withVector = matching.filter((m) => m.data.body !== undefined);
                if (index === undefined || index.size === 0) {
                  expect(r.hits).toEqual([]);
                  continue;
                }
                expect(r.plan.candidates).toBe(Math.min(matching.length, (o.exactLimit ?? 10_000) + 1));
                const expected = index.exact(q!, matching.map((m) => m.id), 5);
                if (r.plan.strategy === "exact") {
                  expect(r.hits.map((h) => [h.id, h.score])).toEqual(expected.map((h) => [h.id, h.score]));
                } else {
                  // Filtered HNSW is approximate in general: only matches, as many as it should find.
                  const allowed = new Set(matching.map((m) => m.id));
                  expect(r.hits.every((h) => allowed.has(h.id))).toBe(true);
                  expect(r.hits).toHaveLength(Math.min(5, withVector.length));
                }
                const byId = new Map(matching.map((m) => [m.id, m.data]));
                for (const h of r.hits) expect(h.entity).toMatchObject({ title: expect.any(String), ...byId.get(h.id) });
                // The lists themselves: exactly the live entities holding the value.
                if (ready && o.filter.list !== undefined && (o.filter.list.field !== "tag" || tagIndexed)) {
                  const sets = vectors.postings.lookup("notes", o.filter.list.field, [o.filter.list.value]);
                  expect(sets).not.toBeNull();
                  expect(new Set(sets![0])).toEqual(new Set(matching.map((m) => m.id)));
                }
              }
              break;
            }
          }
        }
      }),
      { numRuns: 30 },
    );
  }, 240_000);

  it("refuses a list past its memory bound: lookups fall back (null), and a schema change lets it be tried again", async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, schema(true));
    await insertEntities(fx.tenant, "notes", Array.from({ length: 10 }, (_, i) => ({ title: `n${i}`, tier: i % 2, body: "alpha" })), { providers });
    const lists = new PostingLists(fx.tenant.store, 6);
    lists.ensure("notes", "tier");
    await lists.idle();
    expect(lists.stats()).toMatchObject({ lists: 0, refused: 1, entries: 0 });
    expect(lists.lookup("notes", "tier", [{ t: "number", v: 1 }])).toBeNull();
    expect(lists.stats().building).toBe(0); // refused: not rebuilt on every lookup
    const roomy = new PostingLists(fx.tenant.store, 100);
    roomy.ensure("notes", "tier");
    await roomy.idle();
    expect(roomy.stats()).toMatchObject({ lists: 1, entries: 10, weight: 14 }); // 10 entries, 2 values at 2 each
    expect(roomy.lookup("notes", "tier", [{ t: "number", v: 1 }, { t: "number", v: 7 }])!.map((s) => s.size)).toEqual([5, 0]);
    lists.apply({ kind: "schema", schema: "notes" });
    expect(lists.stats().refused).toBe(0);
  });
});
