import { afterEach, describe, expect, it } from "vitest";
import { deleteEntity, dropSchema, insertEntities, registerSchema } from "../../src/node/writes.js";
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
