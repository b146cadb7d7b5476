import { randomUUID } from "node:crypto";
import type { Event } from "../../events/model/events.js";

const WORDS = ["memory", "agent", "moment", "resource", "entity", "graph", "vector", "replica", "stream", "archive"];

/** One note as an agent would write it: a key, an indexed number and tag, a sentence of text. */
export function noteEvent(i: number): Event {
  const text = `note ${i}: ${WORDS[i % 10]} ${WORDS[(i * 7) % 10]} ${WORDS[(i * 3) % 10]} recalled at step ${i}`;
  return { type: "entity.upserted", v: 1, id: randomUUID(), entity_id: randomUUID(), schema: "notes", data: { text, n: i, tag: `t${i % 50}` } };
}
