import { randomUUID } from "node:crypto";
import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { deterministicId } from "../../schema/ids.js";

export const SCHEMA = "docs";

/** A schema with three indexed fields (category 0.1% selective, status, score) and a key field. */
export const DOCS_SCHEMA: JsonObject = {
  name: SCHEMA,
  type: "object",
  properties: {
    title: { type: "string" },
    category: { type: "string" },
    status: { type: "string", enum: ["new", "open", "done"] },
    score: { type: "number" },
    views: { type: "integer" },
    content: { type: "string" },
  },
  required: ["title"],
  indexed_fields: ["category", "status", "score"],
  key_field: "title",
};

export function doc(i: number, categories: number): JsonObject {
  return {
    title: `doc-${i}`,
    category: `c${i % categories}`,
    status: ["new", "open", "done"][i % 3]!,
    score: (i * 7919) % 10007,
    views: i,
    content: `Document ${i}. ` + "lorem ipsum dolor sit amet consectetur adipiscing elit ".repeat(6),
  };
}

export function docId(i: number): string {
  return deterministicId(SCHEMA, "key_field", `doc-${i}`);
}

export function upsert(i: number, categories: number): Event {
  return { type: "entity.upserted", v: 1, id: randomUUID(), entity_id: docId(i), schema: SCHEMA, data: doc(i, categories) };
}

/** Edges of a tree rooted at doc 0: fan-out 10, depth 3 (1 + 10 + 100 + 1000 = 1,111 nodes). */
export function treeEdges(): Event[] {
  const out: Event[] = [];
  let next = 1;
  let level = [0];
  for (let depth = 0; depth < 3; depth++) {
    const children: number[] = [];
    for (const parent of level) {
      for (let k = 0; k < 10; k++) {
        const child = next++;
        children.push(child);
        out.push({ type: "edge.added", v: 1, id: randomUUID(), src: docId(parent), dst: docId(child), edge_type: "contains", props: {} });
      }
    }
    level = children;
  }
  return out;
}
