import { blake3, toHex, utf8 } from "../../events/hash.js";
import type { EmbeddingRecorded } from "../../events/model/events.js";
import type { SchemaSpec } from "../../schema/definition.js";
import type { EntityRecord } from "../store/records.js";
import type { StagedBatch } from "./staged.js";

/**
 * What the projection keeps for semantic search, per entity and embedded
 * field: its current vector (with the hash of the text it embeds) and, when the
 * text has no current vector, a pending mark (the embedding backlog). Vectors
 * come only from `embedding.recorded` events — never from calling a provider —
 * so a replay reproduces them exactly.
 */

/** The text of an embedded field, or null when there is nothing to embed. */
export function embeddableText(rec: EntityRecord, field: string): string | null {
  const v = rec.data[field];
  return typeof v === "string" && v.trim() !== "" ? v : null;
}

/** BLAKE3 of the text, first 16 bytes, hex: what `embedding.recorded.text_hash` carries. */
export function textHash(text: string): string {
  return toHex(blake3(utf8(text)).subarray(0, 16));
}

/** The provider spec an embedded field uses: its own, else the schema's, else "default". */
export function providerOf(spec: SchemaSpec, field: string): string {
  return spec.fieldProviders.get(field) ?? spec.embeddingProvider ?? "default";
}

/**
 * After an entity's upsert: a field whose text changed becomes pending (its old
 * vector stays searchable until the new one is recorded); a field without text
 * loses its vector.
 */
export function afterUpsert(b: StagedBatch, rec: EntityRecord, spec: SchemaSpec | null, seq: number): void {
  if (spec === null) return;
  for (const field of spec.embeddingFields) {
    const text = embeddableText(rec, field);
    const current = b.vector(rec.schema, field, rec.id);
    if (text === null) {
      if (current !== undefined) b.setVector(rec.schema, field, rec.id, null, seq, null);
      b.setPending(rec.schema, field, rec.id, false);
    } else {
      b.setPending(rec.schema, field, rec.id, current === undefined || current.text_hash !== textHash(text));
    }
  }
}

/** After a delete (or a purge): the entity's vectors and pending marks go. */
export function afterRemove(b: StagedBatch, rec: EntityRecord, spec: SchemaSpec | null, seq: number): void {
  if (spec === null) return;
  for (const field of spec.embeddingFields) {
    if (b.vector(rec.schema, field, rec.id) !== undefined) b.setVector(rec.schema, field, rec.id, null, seq, null);
    b.setPending(rec.schema, field, rec.id, false);
  }
}

/**
 * An embedding is kept only when it is for a live entity's embedded field, for
 * that field's current text, and of the field's dimension (its first accepted
 * embedding fixes it). Anything else is ignored — the same way on every replay.
 */
export function applyEmbedding(b: StagedBatch, e: EmbeddingRecorded, spec: SchemaSpec | null, seq: number): void {
  const rec = b.entity(e.entity_id);
  if (spec === null || rec === undefined || rec.deleted_at !== null || rec.schema !== e.schema) return;
  if (!spec.embeddingFields.includes(e.field)) return;
  const text = embeddableText(rec, e.field);
  if (text === null || textHash(text) !== e.text_hash) return; // embeds older text: the field stays pending
  const dims = b.dims(e.schema, e.field);
  if (dims !== undefined && dims.dim !== e.dim) return;
  if (dims === undefined) b.setDims(e.schema, e.field, { dim: e.dim, model: e.model });
  const bytes = new Uint8Array(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength);
  b.setVector(e.schema, e.field, e.entity_id, { model: e.model, dim: e.dim, vector: bytes, text_hash: e.text_hash, seq }, seq, e.vector);
  b.setPending(e.schema, e.field, e.entity_id, false);
}

/**
 * A schema change: fields no longer embedded, or embedded by another provider,
 * lose their vectors (a new provider means new dimensions and a new space);
 * fields newly embedded, or re-embedded, become pending for every live entity.
 */
export function afterSchemaChange(b: StagedBatch, before: SchemaSpec | null, after: SchemaSpec | null, schema: string, entities: readonly EntityRecord[], seq: number): void {
  const old = new Map((before?.embeddingFields ?? []).map((f) => [f, providerOf(before!, f)]));
  const now = new Map((after?.embeddingFields ?? []).map((f) => [f, providerOf(after!, f)]));
  for (const [field, provider] of old) {
    if (now.get(field) === provider) continue;
    for (const rec of entities) {
      if (b.vector(schema, field, rec.id) !== undefined) b.setVector(schema, field, rec.id, null, seq, null);
      b.setPending(schema, field, rec.id, false);
    }
    b.setDims(schema, field, null);
  }
  for (const [field, provider] of now) {
    if (old.get(field) === provider) continue;
    for (const rec of entities) {
      if (rec.deleted_at === null && embeddableText(rec, field) !== null) b.setPending(schema, field, rec.id, true);
    }
  }
}
