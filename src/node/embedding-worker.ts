import { randomUUID } from "node:crypto";
import { RemError, asRemError } from "../errors.js";
import type { Event } from "../../events/model/events.js";
import { embeddableText, providerOf, textHash } from "../../projections/apply/embeddings.js";
import { resolveProvider } from "../embeddings/registry.js";
import type { EmbeddingProvider } from "../embeddings/provider.js";
import { appendCommits } from "./append-commits.js";
import type { Tenant } from "./tenant.js";

export interface EmbedPendingOptions {
  /** Only these entities (an insert embedding its own writes); default: the whole backlog. */
  readonly ids?: readonly string[];
  readonly schema?: string;
  /** Texts sent per provider call (the provider may split further). Default 256. */
  readonly batch?: number;
  /** Resolves provider specs (tests pass counting or failing providers). */
  readonly providers?: (spec: string) => EmbeddingProvider;
  readonly signal?: AbortSignal;
  readonly onProgress?: (embedded: number) => void;
}

export interface EmbedPendingResult {
  /** Embeddings recorded. */
  readonly embedded: number;
  /** Texts still waiting (for these ids, or in the whole backlog). */
  readonly pending: number;
  /** Why it stopped early: the provider failed or returned the wrong dimension (what was recorded stays). */
  readonly error?: RemError;
  /** The last commit this call appended (and applied), or 0 when it appended none. */
  readonly seq: number;
}

interface Item {
  readonly schema: string;
  readonly field: string;
  readonly id: string;
  readonly text: string;
}

/**
 * Embeds texts that have no current embedding and records the vectors as
 * `embedding.recorded` events, so no replay, replica or restore ever calls a
 * provider again. Each text is sent at most once per call. A provider failure
 * (or a wrong dimension) stops the call and is returned as `error`, with what
 * was recorded before it; the rest stays pending (nothing is lost: the entities
 * are stored, their texts stay in the backlog). Other failures (the log) throw.
 */
export async function embedPending(t: Tenant, o: EmbedPendingOptions = {}): Promise<EmbedPendingResult> {
  const providers = o.providers ?? ((spec: string) => resolveProvider(spec));
  const batch = o.batch ?? 256;
  const seen = new Set<string>();
  let embedded = 0;
  let lastSeq = 0;
  for (;;) {
    if (o.signal?.aborted) break;
    const items = (o.ids === undefined ? await backlog(t, o.schema, 4 * batch) : forIds(t, o.ids)).filter((i) => !seen.has(itemKey(i)));
    if (items.length === 0) break;
    for (const group of groupBy(t, items)) {
      for (let i = 0; i < group.items.length; i += batch) {
        const chunk = group.items.slice(i, i + batch);
        for (const it of chunk) seen.add(itemKey(it));
        let events: Event[];
        try {
          events = await embedChunk(t, providers(group.provider), chunk, o.signal);
        } catch (err) {
          const e = asRemError(err, "REM_ERR_EMBEDDING_PROVIDER");
          if (!e.code.startsWith("REM_ERR_EMBEDDING_")) throw err;
          return { embedded, pending: await pendingCount(t, o), error: e, seq: lastSeq };
        }
        const appended = await appendCommits(t.log, events, { perCommit: 256 });
        lastSeq = Math.max(lastSeq, ...appended.map((a) => a.seq));
        await t.sync(lastSeq);
        embedded += events.length;
        o.onProgress?.(embedded);
      }
    }
    if (o.ids !== undefined) break;
  }
  return { embedded, pending: await pendingCount(t, o), seq: lastSeq };
}

async function pendingCount(t: Tenant, o: EmbedPendingOptions): Promise<number> {
  return o.ids === undefined ? (await backlog(t, o.schema, Number.MAX_SAFE_INTEGER)).length : forIds(t, o.ids).length;
}

async function embedChunk(t: Tenant, provider: EmbeddingProvider, chunk: readonly Item[], signal: AbortSignal | undefined): Promise<Event[]> {
  let vectors: Float32Array[];
  try {
    vectors = await provider.embed(
      chunk.map((c) => c.text),
      { signal },
    );
  } catch (err) {
    const e = asRemError(err, "REM_ERR_EMBEDDING_PROVIDER");
    throw new RemError(e.code, `embedding ${chunk.length} texts of ${chunk[0]!.schema}.${chunk[0]!.field} with ${provider.name} failed: ${e.message}`, { ...e.details, tenant: t.name }, { cause: err });
  }
  const { schema, field } = chunk[0]!;
  const dims = t.store.vectorDims(schema, field);
  return chunk.map((item, i) => {
    const vector = vectors[i]!;
    if (dims !== undefined && dims.dim !== vector.length) {
      throw new RemError(
        "REM_ERR_EMBEDDING_DIMENSION",
        `${provider.name} returned ${vector.length}-dimensional vectors, but ${schema}.${field} holds ${dims.dim}-dimensional ones (model ${dims.model}); changing the schema's embedding_provider re-embeds the field`,
        { tenant: t.name, schema, field },
      );
    }
    return { type: "embedding.recorded", v: 1, id: randomUUID(), entity_id: item.id, schema, field, model: provider.model, dim: vector.length, vector, text_hash: textHash(item.text) };
  });
}

/** Backlog items with their current text (skipping any whose entity no longer has one). */
async function backlog(t: Tenant, schema: string | undefined, limit: number): Promise<Item[]> {
  const out: Item[] = [];
  for (const p of await t.store.pendingEmbeddings(limit, schema === undefined ? undefined : { schema })) {
    const rec = t.store.getEntityIn(p.schema, p.id);
    const text = rec === undefined || rec.deleted_at !== null ? null : embeddableText(rec, p.field);
    if (text !== null) out.push({ ...p, text });
  }
  return out;
}

/** The pending texts of the given entities. */
function forIds(t: Tenant, ids: readonly string[]): Item[] {
  const out: Item[] = [];
  for (const id of ids) {
    const rec = t.store.getEntity(id);
    if (rec === undefined || rec.deleted_at !== null) continue;
    const spec = t.store.schemaSpec(rec.schema);
    for (const field of spec?.embeddingFields ?? []) {
      if (t.store.pending.getSync(t.store.vectorKey(rec.schema, field, id)) === undefined) continue;
      const text = embeddableText(rec, field);
      if (text !== null) out.push({ schema: rec.schema, field, id, text });
    }
  }
  return out;
}

/** Items grouped by schema field, each group with the provider spec its field uses. */
function groupBy(t: Tenant, items: readonly Item[]): { provider: string; items: Item[] }[] {
  const groups = new Map<string, { provider: string; items: Item[] }>();
  for (const it of items) {
    const k = `${it.schema}\u0000${it.field}`;
    let g = groups.get(k);
    if (g === undefined) {
      const spec = t.store.schemaSpec(it.schema);
      groups.set(k, (g = { provider: spec === undefined ? "default" : providerOf(spec, it.field), items: [] }));
    }
    g.items.push(it);
  }
  return [...groups.values()];
}

function itemKey(i: Item): string {
  return `${i.schema}\u0000${i.field}\u0000${i.id}`;
}
