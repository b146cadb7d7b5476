import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { Event } from "../../events/model/events.js";
import { traverse } from "../../src/graph/traverse.js";
import { isRemError } from "../../src/errors.js";
import { projectionFixture, type ProjectionFixture } from "../support/projection-fixture.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const upsert = (n: number): Event => ({ type: "entity.upserted", v: 1, id: randomUUID(), entity_id: id(n), schema: "nodes", data: { n } });
const edge = (a: number, b: number, t = "r"): Event => ({ type: "edge.added", v: 1, id: randomUUID(), src: id(a), dst: id(b), edge_type: t, props: {} });

let fx: ProjectionFixture;
afterEach(() => fx.close());

describe("traversal", () => {
  it("is breadth-first and cycle-safe, with depth, path and the edge that reached each node", async () => {
    fx = await projectionFixture();
    await fx.commit([1, 2, 3, 4, 5].map(upsert));
    await fx.commit([edge(1, 2), edge(2, 3), edge(3, 1), edge(1, 4, "s"), edge(4, 5), edge(5, 5)]);
    const nodes = traverse(fx.store, id(1), { depth: 10 });
    expect(nodes.map((n) => [n.id, n.depth])).toEqual([
      [id(1), 0],
      [id(2), 1],
      [id(4), 1],
      [id(3), 2],
      [id(5), 2],
    ]);
    expect(nodes.find((n) => n.id === id(5))).toMatchObject({ path: [id(1), id(4), id(5)], via: { type: "r", direction: "out" } });
    expect(traverse(fx.store, id(1), { depth: 10, type: "r" }).map((n) => n.id)).toEqual([id(1), id(2), id(3)]);
    expect(traverse(fx.store, id(3), { depth: 1, direction: "in" }).map((n) => n.id)).toEqual([id(3), id(2)]);
    expect(traverse(fx.store, id(3), { depth: 1, direction: "both" }).map((n) => n.id).sort()).toEqual([id(1), id(2), id(3)].sort());
    expect(traverse(fx.store, id(1), { depth: 0 })).toHaveLength(1);
  });

  it("sees deletes, re-creations and removed edges at once, although it caches entity states", async () => {
    fx = await projectionFixture();
    await fx.commit([{ type: "schema.registered", v: 1, id: randomUUID(), name: "nodes", definition: { type: "object", properties: { n: { type: "integer" } } } }]);
    await fx.commit([1, 2, 3].map(upsert));
    await fx.commit([edge(1, 2), edge(2, 3)]);
    expect(traverse(fx.store, id(1), { depth: 5 })).toHaveLength(3); // fills the state cache
    await fx.commit([{ type: "entity.deleted", v: 1, id: randomUUID(), entity_id: id(2), schema: "nodes" }]);
    expect(traverse(fx.store, id(1), { depth: 5 }).map((n) => n.id)).toEqual([id(1)]);
    await fx.commit([upsert(2)]);
    expect(traverse(fx.store, id(1), { depth: 5 })).toHaveLength(3);
    await fx.commit([{ type: "edge.removed", v: 1, id: randomUUID(), src: id(2), dst: id(3), edge_type: "r" }]);
    expect(traverse(fx.store, id(1), { depth: 5 }).map((n) => n.id)).toEqual([id(1), id(2)]);
    await fx.commit([{ type: "schema.dropped", v: 1, id: randomUUID(), name: "nodes" }]);
    const err = (() => {
      try {
        traverse(fx.store, id(1));
      } catch (e) {
        return e;
      }
    })();
    expect(isRemError(err, "REM_ERR_NOT_FOUND")).toBe(true); // dropping the schema purged its entities
  });

  it("refuses bad arguments clearly", async () => {
    fx = await projectionFixture();
    await fx.commit([upsert(1)]);
    expect(() => traverse(fx.store, id(1), { depth: 11 })).toThrow(/depth/);
    expect(() => traverse(fx.store, id(1), { direction: "sideways" as never })).toThrow(/direction/);
    expect(() => traverse(fx.store, id(9))).toThrow(/no entity/);
  });
});
