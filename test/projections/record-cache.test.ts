import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { entityView } from "../../projections/view.js";
import { addEdge, deleteEntity, dropSchema, insertEntities, registerSchema, removeEdge } from "../../src/node/writes.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";

const NOTES = { name: "notes", type: "object", properties: { title: { type: "string" }, n: { type: "integer" } }, key_field: "title", indexed_fields: ["n"] };

let fx: TenantFixture;
afterEach(() => fx.close());

describe("the entity record cache", () => {
  it("never serves a record older than the store: updates, deletes, schema drops, reopen", async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, NOTES);
    const [id] = (await insertEntities(fx.tenant, "notes", [{ title: "a", n: 1 }])).ids;
    const s = fx.tenant.store;
    // Read twice (the second read is a cache hit), by both paths.
    expect(s.getEntity(id!, true)?.data).toEqual({ title: "a", n: 1 });
    expect(s.getEntityIn("notes", id!, true)?.data).toEqual({ title: "a", n: 1 });
    expect(s.getEntityIn("other", id!)).toBeUndefined();
    await insertEntities(fx.tenant, "notes", [{ title: "a", n: 2 }]);
    expect(s.getEntity(id!, true)?.data).toEqual({ title: "a", n: 2 });
    expect(s.getEntityIn("notes", id!, true)?.data).toEqual({ title: "a", n: 2 });
    await deleteEntity(fx.tenant, id!);
    expect(s.getEntity(id!, true)?.deleted_at).not.toBeNull();
    expect(s.getEntityIn("notes", id!, true)?.deleted_at).not.toBeNull();
    const [id2] = (await insertEntities(fx.tenant, "notes", [{ title: "b", n: 3 }])).ids;
    expect(s.getEntity(id2!, true)?.data.n).toBe(3);
    await dropSchema(fx.tenant, "notes");
    expect(s.getEntity(id2!, true)).toBeUndefined();
    expect(s.getEntityIn("notes", id2!, true)).toBeUndefined();
    const t = await fx.reopen();
    expect(t.store.getEntity(id2!)).toBeUndefined();
  });
});

describe("the entity view cache (GET /entities/:id)", () => {
  it("always answers what the store holds now: upserts, deletes, edges added and removed (property)", async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, NOTES);
    const t = fx.tenant;
    const ids = (await insertEntities(t, "notes", [{ title: "a", n: 0 }, { title: "b", n: 0 }, { title: "c", n: 0 }])).ids;
    const fresh = (id: string): string | undefined => {
      const rec = t.store.getEntityIn("notes", id);
      return rec === undefined ? undefined : JSON.stringify(entityView(rec, t.store.outEdges(id)));
    };
    const op = fc.oneof(
      fc.record({ k: fc.constant("upsert" as const), i: fc.nat(2), n: fc.nat(9) }),
      fc.record({ k: fc.constant("delete" as const), i: fc.nat(2) }),
      fc.record({ k: fc.constant("link" as const), i: fc.nat(2), j: fc.nat(2), type: fc.constantFrom("x", "y") }),
      fc.record({ k: fc.constant("unlink" as const), i: fc.nat(2), j: fc.nat(2), type: fc.constantFrom("x", "y") }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        for (const o of ops) {
          const a = ids[o.i]!;
          const live = t.store.entityState(a)?.live === true;
          if (o.k === "upsert") await insertEntities(t, "notes", [{ id: a, title: ["a", "b", "c"][o.i], n: o.n }]);
          else if (o.k === "delete" && live) await deleteEntity(t, a);
          else if (o.k === "link" && live && t.store.entityState(ids[o.j]!)?.live === true) await addEdge(t, a, ids[o.j]!, o.type);
          else if (o.k === "unlink") await removeEdge(t, a, ids[o.j]!, o.type).catch(() => undefined);
          for (const id of ids) {
            // Read twice: the second answer comes from the cache when the entity is live.
            for (let r = 0; r < 2; r++) expect(t.store.entityViewJson("notes", id)?.toString("utf8")).toBe(fresh(id));
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
