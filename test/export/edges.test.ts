import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { addEdge, deleteEntity, insertEntities, registerSchema, removeEdge } from "../../src/node/writes.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";
import { analytics, sql } from "./helpers.js";

const NOTES: JsonObject = { name: "notes", type: "object", properties: { title: { type: "string" } } };

describe("edges in the export: the `_edges` table", () => {
  let fx: TenantFixture;
  beforeEach(async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, NOTES);
  });
  afterEach(() => fx.close());

  const edges = () => sql(fx, "SELECT src, dst, type, props, created_at FROM _edges ORDER BY type, src, dst");

  it("is there, empty, before any edge exists", async () => {
    await insertEntities(fx.tenant, "notes", [{ title: "alone" }]);
    expect(await edges()).toEqual([]);
    expect(await sql(fx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_edges' ORDER BY ordinal_position")).toEqual([
      { column_name: "src", data_type: "UUID" },
      { column_name: "dst", data_type: "UUID" },
      { column_name: "type", data_type: "VARCHAR" },
      { column_name: "props", data_type: "JSON" },
      { column_name: "created_at", data_type: "TIMESTAMP" },
    ]);
  });

  it("holds every edge with its type, properties and time; follows adds and removes; joins with the schema views", async () => {
    const [a, b, c] = (await insertEntities(fx.tenant, "notes", [{ title: "a" }, { title: "b" }, { title: "c" }])).ids as [string, string, string];
    await addEdge(fx.tenant, a, b, "links", { weight: 0.5, tags: ["x"] });
    await addEdge(fx.tenant, b, c, "cites");
    const stored = fx.tenant.store.outEdges(a)[0]!;
    expect(await edges()).toEqual([
      { src: b, dst: c, type: "cites", props: {}, created_at: new Date(fx.tenant.store.outEdges(b)[0]!.created_at).toISOString() },
      { src: a, dst: b, type: "links", props: { tags: ["x"], weight: 0.5 }, created_at: new Date(stored.created_at).toISOString() },
    ]);
    expect(await sql(fx, "SELECT s.title AS src, d.title AS dst FROM _edges e JOIN notes s ON s.id = e.src JOIN notes d ON d.id = e.dst ORDER BY 1")).toEqual([
      { src: "a", dst: "b" },
      { src: "b", dst: "c" },
    ]);

    // A change to entities only: the edges file stays as it is.
    const before = (await analytics(fx).exports.manifest())!.edges;
    await insertEntities(fx.tenant, "notes", [{ title: "d" }]);
    await analytics(fx).catchUp();
    expect((await analytics(fx).exports.manifest())!.edges).toEqual(before);

    await removeEdge(fx.tenant, a, b, "links");
    expect((await edges()).map((e) => e.type)).toEqual(["cites"]);
    // A deleted endpoint: the edge is still stored; an inner join with the schema view drops it.
    await deleteEntity(fx.tenant, c);
    expect(await edges()).toHaveLength(1);
    expect(await sql(fx, "SELECT count(*) AS n FROM _edges e JOIN notes d ON d.id = e.dst")).toEqual([{ n: 0 }]);

    // A full rebuild gives the same table.
    const incremental = await edges();
    await analytics(fx).catchUp({ rebuild: true });
    expect(await edges()).toEqual(incremental);
  });
});
