import { resolveProvider } from "../../src/embeddings/registry.js";
import { insertEntities, registerSchema } from "../../src/node/writes.js";
import type { Tenant } from "../../src/node/tenant.js";
import type { VectorIndexSet } from "../../projections/vectors/index-set.js";
import { latencies, median, type LatencySummary } from "../lib/stats.js";
import { measure, nowMs, repeatRate, type Rate } from "../lib/timing.js";
import type { VectorBenchConfig } from "./config.js";
import { createBenchTenant } from "./rem-tenant.js";
import { makeTexts } from "./texts.js";

export const TEXT_CHARS = 500;

/** `local:hash-384` through the provider API (`embed`), on ~500-character texts: docs/s per run. */
export async function embedderRate(cfg: VectorBenchConfig): Promise<Rate & { textChars: number }> {
  const provider = resolveProvider("local:hash-384");
  const texts = makeTexts(cfg.embedTexts, TEXT_CHARS, 1);
  await provider.embed(texts.slice(0, 500)); // warm-up (JIT, the BMP table for non-ASCII letters)
  const rate = await repeatRate(cfg.embedReps, () => measure(() => texts.length, async () => void (await provider.embed(texts))), "docs/s");
  return { ...rate, textChars: Math.round(texts.reduce((n, t) => n + t.length, 0) / texts.length) };
}

const NOTES = {
  name: "notes",
  type: "object",
  properties: { text: { type: "string" }, n: { type: "integer" } },
  required: ["text"],
  embedding_fields: ["text"],
  embedding_provider: "local:hash-384",
};

export interface InsertFigures extends LatencySummary {
  /** Per insert, the p50 of the time spent applying vector changes to loaded HNSW indexes (null: indexes not loaded). */
  readonly hnswApplyP50Ms: number | null;
  /** The notes index size after the last insert (null: not loaded). */
  readonly indexSizeAfter: number | null;
  /** Vectors still waiting for their HNSW graph insert when the last insert returned (searched exactly meanwhile). */
  readonly pendingGraphInsertsAfter: number | null;
}

/**
 * `insertEntities` of 1,000 new ~500-character documents into a schema embedded
 * by `local:hash-384`: validation, a durable append, the projection, embedding,
 * the `embedding.recorded` append and its projection — into the live HNSW
 * index when the tenant's vectors are loaded (pass their `set`: the time spent
 * applying to it is measured by wrapping its `apply`). One untimed warm-up insert,
 * then `insertReps` timed ones, each of new documents.
 */
export async function insert1000(t: Tenant, cfg: VectorBenchConfig, set: VectorIndexSet | null): Promise<InsertFigures> {
  await registerSchema(t, NOTES);
  let applyMs = 0;
  if (set !== null) {
    // A measuring aid, instance-local: the tenant calls set.apply() for each batch it projects.
    const original = set.apply.bind(set);
    set.apply = (changes, seq) => {
      const t0 = nowMs();
      original(changes, seq);
      applyMs += nowMs() - t0;
    };
  }
  let batch = 0;
  const once = async (): Promise<{ ms: number; applyMs: number }> => {
    const docs = makeTexts(1000, TEXT_CHARS, 1000 + batch++).map((text, n) => ({ text, n }));
    applyMs = 0;
    const t0 = nowMs();
    const r = await insertEntities(t, "notes", docs);
    const ms = nowMs() - t0;
    if (r.ids.length !== 1000 || r.embeddings?.embedded !== 1000) throw new Error(`insert: ${r.ids.length} ids, embeddings ${JSON.stringify(r.embeddings)}`);
    return { ms, applyMs };
  };
  await once();
  const samples: { ms: number; applyMs: number }[] = [];
  for (let i = 0; i < cfg.insertReps; i++) samples.push(await once());
  return {
    ...latencies(samples.map((s) => s.ms)),
    hnswApplyP50Ms: set === null ? null : median(samples.map((s) => s.applyMs)),
    indexSizeAfter: set?.index("notes", "text")?.size ?? null,
    pendingGraphInsertsAfter: set?.index("notes", "text")?.pendingCount ?? null,
  };
}

/** `insert1000` on a fresh, empty tenant in `dir` that never loads its vector indexes: the write path without HNSW. */
export async function insertWithoutIndex(dir: string, cfg: VectorBenchConfig): Promise<InsertFigures> {
  const bt = await createBenchTenant(dir);
  try {
    return await insert1000(bt.tenant, cfg, null);
  } finally {
    await bt.tenant.close();
  }
}
