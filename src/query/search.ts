import { RemError } from "../errors.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { providerOf } from "../../projections/apply/embeddings.js";
import { entityView } from "../../projections/view.js";
import { hnswParams, type ExactStats, type VectorIndex } from "../../projections/vectors/vector-index.js";
import { resolveProvider } from "../embeddings/registry.js";
import type { EmbeddingProvider } from "../embeddings/provider.js";
import type { Tenant } from "../node/tenant.js";
import { compileFilter, type CompiledFilter } from "./search-filter.js";

export interface SearchRequest {
  readonly schema: string;
  /** The query text (embedded with the field's provider)… */
  readonly text?: string;
  /** …or a query vector. */
  readonly vector?: Float32Array;
  /** The embedded field; default: the schema's first. */
  readonly field?: string;
  readonly topK?: number;
  /** Drop hits below this cosine similarity. */
  readonly minScore?: number;
  /** A SQL predicate on the schema's fields (as after WHERE). */
  readonly where?: string;
  /** HNSW search breadth for this query (default: the index's ef_search). */
  readonly ef?: number;
  /** Filter matches up to which scoring is exact (default EXACT_LIMIT). */
  readonly exactLimit?: number;
}

export interface SearchHit {
  readonly id: string;
  readonly score: number;
  readonly entity: JsonObject;
}

export interface SearchPlan {
  readonly schema: string;
  readonly field: string;
  readonly provider: string;
  /** hnsw: approximate; exact: every candidate scored (filter selective enough); hnsw_filtered: HNSW with the filter applied during the walk; empty: no vectors. */
  readonly strategy: "hnsw" | "exact" | "hnsw_filtered" | "empty";
  /** For filtered searches: how many entities matched the filter (capped at EXACT_LIMIT + 1 when HNSW was used). */
  readonly candidates: number | null;
  /** The HNSW search breadth used (the request's, else the schema's ef_search, else the default); null when HNSW was not used. */
  readonly ef: number | null;
  /**
   * For exact scoring: whether the int8 kernel ranked the candidates first
   * (kept as a block per filter value), and how many were then scored in
   * float32 — all of them without the kernel. Null when nothing was scored exactly.
   */
  readonly exact: { readonly kernel: boolean; readonly rescored: number } | null;
  readonly vectors: number;
}

export interface SearchResult {
  readonly hits: SearchHit[];
  readonly plan: SearchPlan;
}

/**
 * Up to this many filter matches are scored exactly (recall 1.0, ~0.5 µs each);
 * above it the filter is applied inside the HNSW walk. This is the selectivity
 * switch Qdrant and Chroma make in their own ways.
 */
export const EXACT_LIMIT = 10_000;

/**
 * Semantic search over a schema's embedded field: the query is embedded with
 * the field's provider (never with another model), then answered by HNSW, or,
 * with a filter, by exact scoring of the matching entities when they are few
 * and by filtered HNSW when they are many — with exact scoring as the fallback
 * if HNSW cannot find enough matches. Only live entities are returned.
 */
export async function searchEntities(t: Tenant, req: SearchRequest, providers: (spec: string) => EmbeddingProvider = (s) => resolveProvider(s)): Promise<SearchResult> {
  const spec = t.store.schemaSpec(req.schema);
  if (spec === undefined) throw new RemError("REM_ERR_SCHEMA_NOT_FOUND", `no schema ${JSON.stringify(req.schema)} in tenant ${t.name}`, { schema: req.schema });
  if (spec.embeddingFields.length === 0) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `schema ${req.schema} has no embedding fields: add embedding_fields to search it`, { schema: req.schema });
  }
  const field = req.field ?? spec.embeddingFields[0]!;
  if (!spec.embeddingFields.includes(field)) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `${req.schema}.${field} is not embedded; embedded fields: ${spec.embeddingFields.join(", ")}`, { schema: req.schema, field });
  }
  const topK = req.topK ?? 10;
  if (!Number.isInteger(topK) || topK < 1 || topK > 10_000) throw new RemError("REM_ERR_INVALID_ARGUMENT", `top_k must be an integer from 1 to 10000, got ${topK}`, { field: "top_k" });
  const providerSpec = providerOf(spec, field);
  const query = await queryVector(req, providers(providerSpec), field);
  // Compile the filter first: a bad predicate is an error even when there are no vectors yet.
  const filter = req.where === undefined || req.where.trim() === "" ? null : await compileFilter(t, req.schema, req.where);
  const vectors = await t.vectors();
  await vectors.settled(); // a snapshot being written holds back newer changes: wait for them
  const index = vectors.index(req.schema, field);
  const base = { schema: req.schema, field, provider: providerSpec, vectors: index?.size ?? 0 };
  if (index === undefined || index.size === 0) return { hits: [], plan: { ...base, strategy: "empty", candidates: null, ef: null, exact: null } };
  if (query.length !== index.dim) {
    throw new RemError("REM_ERR_EMBEDDING_DIMENSION", `the query vector has ${query.length} dimensions; ${req.schema}.${field} holds ${index.dim}`, { schema: req.schema, field });
  }

  // The schema's ef_search as it is now: a change applies at once, also to an index built or snapshotted before it.
  const ef = req.ef ?? hnswParams(spec.hnsw).efSearch;
  let hits: { id: string; score: number }[];
  let strategy: SearchPlan["strategy"];
  let candidates: number | null = null;
  const exact: ExactStats = { kernel: false, rescored: 0 };
  if (filter === null) {
    hits = index.search(query, topK, { ef });
    strategy = "hnsw";
  } else {
    const exactLimit = req.exactLimit ?? EXACT_LIMIT;
    const matching = await filter.matches(exactLimit + 1, vectors.postings);
    candidates = matching.count;
    if (matching.count <= exactLimit) {
      hits = index.exact(query, matching.ids, topK, { key: matching.key, stats: exact });
      strategy = "exact";
    } else {
      hits = filteredHnsw(index, query, topK, matching.allow, ef);
      strategy = "hnsw_filtered";
      if (hits.length < topK) {
        // The filter starved the walk: score every match exactly instead.
        hits = index.exact(query, await matching.all(), topK, { key: matching.key, stats: exact });
        strategy = "exact";
      }
    }
  }
  const out = await hitEntities(t, req.schema, req.minScore === undefined ? hits : hits.filter((h) => h.score >= req.minScore!), filter);
  return {
    hits: out,
    plan: { ...base, strategy, candidates, ef: strategy === "exact" ? null : strategy === "hnsw_filtered" ? Math.max(ef, 4 * topK) : ef, exact: strategy === "exact" ? exact : null },
  };
}

/**
 * The hits' entities, read in one batch (point reads: remembered by the record
 * cache), live ones only, in hit order. Candidates from an index-only filter are
 * re-checked on the entity read (a write may have moved it since).
 */
async function hitEntities(t: Tenant, schema: string, hits: readonly { id: string; score: number }[], filter: CompiledFilter | null): Promise<SearchHit[]> {
  const recs = await t.store.getEntitiesIn(schema, hits.map((h) => h.id), true);
  const out: SearchHit[] = [];
  for (let i = 0; i < hits.length; i++) {
    const rec = recs[i];
    if (rec === undefined || rec.deleted_at !== null) continue;
    if (filter !== null && filter.indexOnly && !filter.test(rec)) continue;
    out.push({ id: hits[i]!.id, score: hits[i]!.score, entity: entityView(rec) });
  }
  return out;
}

async function queryVector(req: SearchRequest, provider: EmbeddingProvider, field: string): Promise<Float32Array> {
  if (req.vector !== undefined) return req.vector;
  if (req.text === undefined || req.text.trim() === "") {
    throw new RemError("REM_ERR_EMBEDDING_INVALID", "the search text is empty", { field: "query" });
  }
  const [v] = await provider.embed([req.text]);
  if (v === undefined) throw new RemError("REM_ERR_EMBEDDING_PROVIDER", `${provider.name} returned no vector for the query (field ${field})`);
  return v;
}

/** HNSW with the filter checked as the walk meets each node, with a wider search for the filter's sake. */
function filteredHnsw(index: VectorIndex, query: Float32Array, k: number, allow: (id: string) => boolean, ef: number): { id: string; score: number }[] {
  return index.search(query, k, { allow, ef: Math.max(ef, 4 * k) });
}

/**
 * `SEARCH schema 'text' [WHERE …] [LIMIT k]`, the query language form of a
 * search. Returns null when `sql` is not a SEARCH statement.
 */
export function parseSearch(sql: string): { schema: string; text: string; where?: string; limit?: number } | null {
  const m = /^\s*SEARCH\s+([A-Za-z_][A-Za-z0-9_]*)\s+'((?:[^']|'')*)'\s*(?:WHERE\s+([\s\S]*?))?\s*(?:LIMIT\s+(\d+))?\s*;?\s*$/i.exec(sql);
  if (m === null) {
    if (/^\s*SEARCH\b/i.test(sql)) {
      throw new RemError("REM_ERR_QUERY_INVALID", "SEARCH takes the form: SEARCH schema 'text' [WHERE predicate] [LIMIT k]", {});
    }
    return null;
  }
  return {
    schema: m[1]!.toLowerCase(),
    text: m[2]!.replace(/''/g, "'"),
    ...(m[3] === undefined ? {} : { where: m[3] }),
    ...(m[4] === undefined ? {} : { limit: Number(m[4]) }),
  };
}
