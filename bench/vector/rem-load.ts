import type { EmbeddingProvider } from "../../src/embeddings/provider.js";
import { insertEntities, registerSchema } from "../../src/node/writes.js";
import type { Tenant } from "../../src/node/tenant.js";
import { progress } from "../lib/report.js";
import { nowMs } from "../lib/timing.js";
import type { VectorBenchConfig } from "./config.js";
import type { Dataset } from "./dataset.js";

export const VEC_SCHEMA = "vecs";

/** Entities of the data set: `text` = "v<i>" (the embedded field), `bucket` = i % buckets (indexed). */
export function vecsSchema(providerName: string) {
  return {
    name: VEC_SCHEMA,
    type: "object",
    properties: { text: { type: "string" }, bucket: { type: "integer" } },
    required: ["text", "bucket"],
    indexed_fields: ["bucket"],
    embedding_fields: ["text"],
    embedding_provider: providerName,
  };
}

/** The data set index of an entity of `vecs` (its text is "v<i>"). */
export function datasetIndex(entity: { readonly text?: unknown }): number {
  return Number((entity.text as string).slice(1));
}

/**
 * A stand-in for an embedding model: text "v<i>" → the data set's vector i
 * (a copy), so REM records exactly the vectors the baselines index.
 */
export function datasetProvider(ds: Dataset): EmbeddingProvider {
  return {
    name: "bench:dataset",
    model: `dataset-${ds.dim}`,
    dim: ds.dim,
    async embed(texts) {
      return texts.map((t) => {
        const i = Number(t.slice(1));
        if (!(t.startsWith("v") && Number.isInteger(i) && i >= 0 && i < ds.n)) throw new Error(`not a data set text: ${t}`);
        return ds.vectors.slice(i * ds.dim, (i + 1) * ds.dim);
      });
    },
  };
}

/**
 * Loads the data set through the whole write path: `insertEntities` in batches
 * (validation, durable append, projection), each embedding its texts with the
 * data set provider and recording the vectors as `embedding.recorded` events.
 * The vector indexes are not loaded yet, so no HNSW work happens here.
 */
export async function loadDataset(t: Tenant, ds: Dataset, cfg: VectorBenchConfig): Promise<{ seconds: number; entitiesPerS: number }> {
  const provider = datasetProvider(ds);
  await registerSchema(t, vecsSchema(provider.name));
  const t0 = nowMs();
  const step = Math.max(cfg.insertBatch, Math.floor(ds.n / 10 / cfg.insertBatch) * cfg.insertBatch);
  for (let from = 0; from < ds.n; from += cfg.insertBatch) {
    const to = Math.min(ds.n, from + cfg.insertBatch);
    const objects = [];
    for (let i = from; i < to; i++) objects.push({ text: `v${i}`, bucket: i % cfg.buckets });
    const r = await insertEntities(t, VEC_SCHEMA, objects, { providers: () => provider });
    if (r.embeddings?.embedded !== to - from) throw new Error(`insert of ${from}..${to}: embedded ${r.embeddings?.embedded}, pending ${r.embeddings?.pending}, ${JSON.stringify(r.embeddings?.error)}`);
    if (to % step === 0) progress(`  REM load: ${to} / ${ds.n} (${((nowMs() - t0) / 1000).toFixed(0)} s)`);
  }
  const seconds = (nowMs() - t0) / 1000;
  return { seconds, entitiesPerS: ds.n / seconds };
}
