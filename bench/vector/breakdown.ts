import { entityView } from "../../projections/view.js";
import { compileFilter } from "../../src/query/search-filter.js";
import { EXACT_LIMIT, searchEntities } from "../../src/query/search.js";
import type { Tenant } from "../../src/node/tenant.js";
import { median } from "../lib/stats.js";
import { nowMs } from "../lib/timing.js";
import type { Dataset } from "./dataset.js";
import { datasetProvider, VEC_SCHEMA } from "./rem-load.js";

/** Medians (ms) of the steps a search goes through, each timed on its own through the same public functions. */
export interface SearchBreakdown {
  readonly queries: number;
  readonly unfiltered: { readonly fullMs: number; readonly indexSearchMs: number; readonly fetchAndViewMs: number };
  readonly filtered: {
    readonly fullMs: number;
    /** compileFilter: parse + bind + plan of `SELECT id FROM … WHERE …`. */
    readonly compileMs: number;
    /** The matching ids, as the search takes them (posting lists when ready, else the LevelDB index). */
    readonly matchIdsMs: number;
    readonly matches: number;
    readonly matchSource: string;
    /** VectorIndex.exact over those ids. */
    readonly exactMs: number;
    readonly fetchAndViewMs: number;
  };
}

/**
 * Where a REM search spends its time, step by step (a diagnostic run after the
 * timed figures, on `count` queries): the HNSW search alone, reading and viewing
 * the hit entities (one batched read), and for a filtered search compiling the
 * filter, taking the matching ids and scoring them exactly.
 */
export async function searchBreakdown(t: Tenant, ds: Dataset, queries: readonly Float32Array[], opts: { topK: number; ef?: number; where: string; count: number }): Promise<SearchBreakdown> {
  const provider = datasetProvider(ds);
  const providers = () => provider;
  const index = (await t.vectors()).index(VEC_SCHEMA, "text");
  if (index === undefined) throw new Error("no index for vecs.text");
  const time = async <T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> => {
    const t0 = nowMs();
    const value = await fn();
    return { ms: nowMs() - t0, value };
  };
  const s = { full: [] as number[], search: [] as number[], fetch: [] as number[], ffull: [] as number[], compile: [] as number[], match: [] as number[], exact: [] as number[], ffetch: [] as number[] };
  let matches = 0;
  let matchSource = "";
  const postings = (await t.vectors()).postings;
  const fetch = async (ids: readonly string[]) => (await t.store.getEntitiesIn(VEC_SCHEMA, ids)).map((rec) => entityView(rec!));
  for (let q = 0; q < opts.count; q++) {
    const v = queries[q]!;
    s.full.push((await time(() => searchEntities(t, { schema: VEC_SCHEMA, vector: v, topK: opts.topK, ef: opts.ef }, providers))).ms);
    const hits = await time(() => index.search(v, opts.topK, { ef: opts.ef }));
    s.search.push(hits.ms);
    s.fetch.push((await time(() => fetch(hits.value.map((h) => h.id)))).ms);

    s.ffull.push((await time(() => searchEntities(t, { schema: VEC_SCHEMA, vector: v, topK: opts.topK, where: opts.where }, providers))).ms);
    const filter = await time(() => compileFilter(t, VEC_SCHEMA, opts.where));
    s.compile.push(filter.ms);
    const ids = await time(() => filter.value.matches(EXACT_LIMIT + 1, postings));
    s.match.push(ids.ms);
    matches = ids.value.count;
    matchSource = ids.value.source;
    const exact = await time(() => index.exact(v, ids.value.ids, opts.topK, { key: ids.value.key }));
    s.exact.push(exact.ms);
    s.ffetch.push((await time(() => fetch(exact.value.map((h) => h.id)))).ms);
  }
  return {
    queries: opts.count,
    unfiltered: { fullMs: median(s.full), indexSearchMs: median(s.search), fetchAndViewMs: median(s.fetch) },
    filtered: { fullMs: median(s.ffull), compileMs: median(s.compile), matchIdsMs: median(s.match), matches, matchSource, exactMs: median(s.exact), fetchAndViewMs: median(s.ffetch) },
  };
}
