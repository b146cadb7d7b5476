import { searchEntities, type SearchResult } from "../../src/query/search.js";
import type { Tenant } from "../../src/node/tenant.js";
import type { Dataset } from "./dataset.js";
import type { Engine } from "./interleave.js";
import { datasetIndex, datasetProvider, VEC_SCHEMA } from "./rem-load.js";

export interface RemEngine extends Engine<SearchResult> {
  /** How often each plan strategy answered (hnsw, exact, hnsw_filtered, empty). */
  readonly strategies: Record<string, number>;
  /** Filter matches reported by the plan (the last filtered query's). */
  readonly candidates: () => number | null;
}

/**
 * REM's public search API, `searchEntities`, with a query vector: plan, HNSW
 * (or exact scoring of the filter's matches), then each hit's entity read
 * from the store. Query vectors are plain (non-shared) copies made up front.
 */
export function remEngine(name: string, t: () => Tenant, ds: Dataset, queries: readonly Float32Array[], opts: { topK: number; ef?: number; where?: string }): RemEngine {
  const provider = datasetProvider(ds);
  const providers = () => provider;
  const strategies: Record<string, number> = {};
  let candidates: number | null = null;
  return {
    name,
    strategies,
    candidates: () => candidates,
    run(q) {
      return searchEntities(t(), { schema: VEC_SCHEMA, vector: queries[q]!, topK: opts.topK, ef: opts.ef, where: opts.where }, providers);
    },
    ids(r) {
      strategies[r.plan.strategy] = (strategies[r.plan.strategy] ?? 0) + 1;
      candidates = r.plan.candidates;
      return r.hits.map((h) => datasetIndex(h.entity));
    },
  };
}

/** Each query as its own Float32Array (what a caller would hold). */
export function queryCopies(ds: Dataset): Float32Array[] {
  return Array.from({ length: ds.queryCount }, (_, q) => ds.queries.slice(q * ds.dim, (q + 1) * ds.dim));
}
