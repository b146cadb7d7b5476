import { randomUUID } from "node:crypto";
import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";

export const SCHEMA = "activities";

/** A realistic analytics schema: strings, an enum, numbers, a boolean, a list, a timestamp and a nested object. */
export const ACTIVITIES: JsonObject = {
  name: SCHEMA,
  type: "object",
  properties: {
    title: { type: "string" },
    category: { type: "string" },
    status: { type: "string", enum: ["open", "done", "archived"] },
    score: { type: "number" },
    duration_ms: { type: "integer" },
    done: { type: "boolean" },
    tags: { type: "array", items: { type: "string" } },
    happened_at: { type: "string", format: "date-time" },
    author: { type: "object", properties: { name: { type: "string" }, team: { type: "string" } } },
  },
  required: ["title"],
  indexed_fields: ["category"],
};

const CATEGORIES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"];
const STATUSES = ["open", "done", "archived"];

/** Row i of the workload (deterministic). */
export function activity(i: number): JsonObject {
  return {
    title: `Activity ${i}: reviewed the quarterly plan`,
    category: CATEGORIES[i % CATEGORIES.length]!,
    status: STATUSES[i % 3]!,
    score: ((i * 7919) % 10007) / 100,
    duration_ms: (i * 37) % 3_600_000,
    done: i % 3 === 1,
    tags: i % 4 === 0 ? [] : [`t${i % 10}`, `x${i % 7}`],
    happened_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    author: { name: `user${i % 500}`, team: `team${i % 9}` },
  };
}

export function upsert(i: number, id: string = randomUUID()): Event {
  return { type: "entity.upserted", v: 1, id: randomUUID(), entity_id: id, schema: SCHEMA, data: activity(i) };
}

/** The `rem sql` aggregates timed: counts by category over time, and per-category statistics. */
export const AGGREGATES = {
  categoryByMonth: `SELECT category, date_trunc('month', happened_at) AS month, count(*) AS n FROM ${SCHEMA} GROUP BY ALL ORDER BY ALL`,
  categoryStats: `SELECT category, count(*) AS n, avg(score) AS avg_score, sum(duration_ms) AS total_ms, count(*) FILTER (WHERE done) AS done FROM ${SCHEMA} GROUP BY category ORDER BY category`,
} as const;
