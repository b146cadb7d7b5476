import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { parseSchema, type SchemaSpec } from "../../schema/definition.js";
import { naturalKey } from "../../schema/ids.js";
import { indexValues } from "../indexing.js";
import { uuidBytes, type IndexValue } from "../store/keys.js";
import { afterRemove, afterSchemaChange, afterUpsert, applyEmbedding, providerOf } from "./embeddings.js";
import { pack, type EntityRecord, type SchemaRecord } from "../store/records.js";
import type { StagedBatch } from "./staged.js";

/** What every event of a commit shares. */
export interface CommitContext {
  readonly seq: number;
  readonly ts: number;
}

const specs = new WeakMap<SchemaRecord, SchemaSpec | null>();
const EMPTY = Buffer.alloc(0);

/** The parsed schema behind a record; null when its definition does not parse (then it has no indexes). */
export function specOf(rec: SchemaRecord | undefined): SchemaSpec | null {
  if (rec === undefined) return null;
  let spec = specs.get(rec);
  if (spec === undefined) {
    try {
      spec = parseSchema(rec.definition, rec.name);
    } catch {
      spec = null; // a definition the write path would have refused, appended raw: store it, index nothing
    }
    specs.set(rec, spec);
  }
  return spec;
}

/**
 * Applies one commit's events to the staged batch (`encodedData[i]`: event i's
 * `data` as the log encodes it, see decodeEventsWithData). Deterministic: the result
 * depends only on the store's state and the events (timestamps come from the
 * commit), so replaying the log always rebuilds the same projection.
 */
export async function applyEvents(b: StagedBatch, events: readonly Event[], c: CommitContext, encodedData?: readonly (Uint8Array | undefined)[]): Promise<void> {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.type) {
      case "entity.upserted":
        upsert(b, e.entity_id, e.schema, e.data, c, encodedData?.[i]);
        break;
      case "entity.deleted":
        remove(b, e.entity_id, c);
        break;
      case "edge.added": {
        const s = b.store;
        b.put(s.edges, s.edgeKey(e.src, e.edge_type, e.dst), pack({ src: e.src, dst: e.dst, type: e.edge_type, props: e.props, created_at: c.ts }));
        b.addAdjacency(e.src, "out", e.edge_type, e.dst);
        b.addAdjacency(e.dst, "in", e.edge_type, e.src);
        break;
      }
      case "edge.removed": {
        const s = b.store;
        b.del(s.edges, s.edgeKey(e.src, e.edge_type, e.dst));
        b.removeAdjacency(e.src, "out", e.edge_type, e.dst);
        b.removeAdjacency(e.dst, "in", e.edge_type, e.src);
        break;
      }
      case "schema.registered":
      case "schema.changed":
        await putSchema(b, e.name, e.definition, c);
        break;
      case "schema.dropped":
        await dropSchema(b, e.name, c.seq);
        break;
      case "embedding.recorded":
        applyEmbedding(b, e, specOf(b.schema(e.schema)), c.seq);
        break;
      case "key.rotated":
        break; // key records matter to verifiers, not to projections
    }
  }
}

/** `encoded`: `data`'s bytes as the log holds them, when known (the record embeds them as they are). */
function upsert(b: StagedBatch, id: string, schema: string, data: JsonObject, c: CommitContext, encoded: Uint8Array | undefined): void {
  const idb = uuidBytes(id);
  const old = b.entity(id, idb);
  if (old !== undefined && old.deleted_at === null) unindex(b, old, idb);
  if (old !== undefined && old.schema !== schema) {
    // an explicit id reused in another schema: the old entity goes entirely
    afterRemove(b, old, specOf(b.schema(old.schema)), c.seq);
    b.purgeEntity(old);
  }
  const alive = old !== undefined && old.deleted_at === null && old.schema === schema;
  const rec: EntityRecord = { id, schema, data, created_at: alive ? old.created_at : c.ts, modified_at: c.ts, deleted_at: null, seq: c.seq };
  b.putEntity(rec, idb, encoded);
  index(b, rec, idb);
  afterUpsert(b, rec, specOf(b.schema(schema)), c.seq);
}

function remove(b: StagedBatch, id: string, c: CommitContext): void {
  const old = b.entity(id);
  if (old === undefined || old.deleted_at !== null) return; // deleting twice, or what never existed, changes nothing
  unindex(b, old);
  afterRemove(b, old, specOf(b.schema(old.schema)), c.seq);
  b.putEntity({ ...old, deleted_at: c.ts, modified_at: c.ts, seq: c.seq });
}

/**
 * Puts (`add`) or deletes a live entity's field index entries and natural key
 * entry; for a schema with embeddings also notes each (field, value), which the
 * in-memory posting lists of filtered search mirror. Written straight into the
 * batch: collecting the entries first cost an array and an object per entity.
 */
function indexEntries(b: StagedBatch, rec: EntityRecord, idb: Uint8Array, add: boolean): void {
  const spec = specOf(b.schema(rec.schema));
  if (spec !== null) {
    const s = b.store;
    const postings = spec.embeddingFields.length > 0;
    for (const field of spec.indexedFields) {
      const info = spec.fields.get(field)!;
      for (const v of indexValues(info.kind, info.items, rec.data[field])) {
        const key = s.indexKeyFull(rec.schema, field, v, idb);
        if (add) b.putRaw(key, EMPTY);
        else b.delRaw(key);
        if (postings) b.notePosting(rec.schema, field, rec.id, v, add);
      }
    }
  }
  const key = naturalKey(spec?.keyField ?? null, rec.data);
  if (key === null) return;
  if (add) b.addKeyEntry(key, rec.id, rec.schema);
  else b.removeKeyEntry(key, rec.id, rec.schema);
}

function index(b: StagedBatch, rec: EntityRecord, idb: Uint8Array = uuidBytes(rec.id)): void {
  indexEntries(b, rec, idb, true);
}

function unindex(b: StagedBatch, rec: EntityRecord, idb: Uint8Array = uuidBytes(rec.id)): void {
  indexEntries(b, rec, idb, false);
}

/**
 * Registers or changes a schema. When its indexed fields or key field change,
 * the schema's live entities are re-indexed from the store overlaid with the
 * current batch (which, at this commit, is exactly what the log says): this is
 * how adding an index to a schema with data builds it.
 */
async function putSchema(b: StagedBatch, name: string, definition: JsonObject, c: CommitContext): Promise<void> {
  const old = b.schema(name);
  const rec: SchemaRecord = { name, definition, version: c.seq, created_at: old?.created_at ?? c.ts, modified_at: c.ts };
  const before = specOf(old);
  const after = specOf(rec);
  // Also on first registration: entities appended before their schema existed get indexed now.
  const reindex = !sameIndexing(before, after);
  const reembed = !sameEmbedding(before, after);
  const all = reindex || reembed ? await entitiesOf(b, name) : [];
  const live = reindex ? all.filter((e) => e.deleted_at === null) : [];
  for (const e of live) unindex(b, e);
  b.putSchema(rec);
  for (const e of live) index(b, e);
  if (reembed) afterSchemaChange(b, before, after, name, all, c.seq);
}

async function dropSchema(b: StagedBatch, name: string, seq: number): Promise<void> {
  const spec = specOf(b.schema(name));
  if (b.schema(name) === undefined) return;
  for (const e of await entitiesOf(b, name)) {
    if (e.deleted_at === null) unindex(b, e);
    afterRemove(b, e, spec, seq);
    b.purgeEntity(e);
  }
  for (const field of spec?.embeddingFields ?? []) b.setDims(name, field, null);
  b.dropSchema(name);
}

/** Every entity record (tombstones too) of a schema as of this point of the batch: the store's, overlaid with the batch's. */
async function entitiesOf(b: StagedBatch, schema: string): Promise<EntityRecord[]> {
  const out: EntityRecord[] = [];
  const seen = new Set<string>();
  for await (const stored of b.store.scanSchema(schema)) {
    seen.add(stored.id);
    const cur = b.entity(stored.id);
    if (cur !== undefined && cur.schema === schema) out.push(cur);
  }
  for (const rec of b.stagedEntities()) {
    if (rec !== null && rec.schema === schema && !seen.has(rec.id)) out.push(rec);
  }
  return out;
}

function sameEmbedding(a: SchemaSpec | null, b: SchemaSpec | null): boolean {
  const fields = (s: SchemaSpec | null) => (s === null ? "" : s.embeddingFields.map((f) => `${f}=${providerOf(s, f)}`).join("\u0000"));
  return fields(a) === fields(b);
}

function sameIndexing(a: SchemaSpec | null, b: SchemaSpec | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.keyField !== b.keyField) return false;
  if (a.indexedFields.join("\0") !== b.indexedFields.join("\0")) return false;
  return a.indexedFields.every((f) => {
    const x = a.fields.get(f)!;
    const y = b.fields.get(f)!;
    return x.kind === y.kind && x.items === y.items;
  });
}
