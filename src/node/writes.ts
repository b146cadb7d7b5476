import { randomUUID } from "node:crypto";
import { RemError } from "../errors.js";
import type { EmbeddingProvider } from "../embeddings/provider.js";
import { embedPending } from "./embedding-worker.js";
import { UUID_PATTERN, type Event } from "../../events/model/events.js";
import { canonicalJsonObject, type JsonObject } from "../../events/model/json-value.js";
import type { Seq } from "../../events/model/ids.js";
import { parseSchema, type SchemaSpec } from "../../schema/definition.js";
import { identify } from "../../schema/ids.js";
import { checkDefinition, validateEntity } from "../../schema/validate.js";
import { appendCommits } from "./append-commits.js";
import type { Tenant } from "./tenant.js";

/**
 * The validated write operations of a tenant. Each checks its input against the
 * current projections (schemas, existing entities), appends events, and applies
 * them before returning (read-your-writes). Invalid input appends nothing.
 */

export interface SchemaWriteResult {
  readonly name: string;
  /** "registered" for a new schema, "changed" for a new definition, "unchanged" when identical (nothing appended). */
  readonly outcome: "registered" | "changed" | "unchanged";
  readonly seq: number;
}

export async function registerSchema(t: Tenant, definition: unknown, nameOverride?: string): Promise<SchemaWriteResult> {
  const def = canonicalJsonObject(definition, "schema");
  const spec = parseSchema(def, nameOverride);
  checkDefinition(spec);
  const existing = t.store.getSchemaRecord(spec.name);
  if (existing !== undefined && JSON.stringify(existing.definition) === JSON.stringify(def)) {
    return { name: spec.name, outcome: "unchanged", seq: existing.version };
  }
  const type = existing === undefined ? "schema.registered" : "schema.changed";
  const r = await t.log.append([{ type, v: 1, id: randomUUID(), name: spec.name, definition: def }]);
  await t.sync(r.seq);
  return { name: spec.name, outcome: existing === undefined ? "registered" : "changed", seq: r.seq };
}

export async function dropSchema(t: Tenant, name: string): Promise<{ name: string; seq: number }> {
  requireSchema(t, name);
  const r = await t.log.append([{ type: "schema.dropped", v: 1, id: randomUUID(), name }]);
  await t.sync(r.seq);
  return { name, seq: r.seq };
}

export function requireSchema(t: Tenant, name: string): SchemaSpec {
  const spec = t.store.schemaSpec(name);
  if (spec === undefined) {
    throw new RemError("REM_ERR_SCHEMA_NOT_FOUND", `no schema ${JSON.stringify(name)} in tenant ${t.name}: register it with \`rem schema add\` (see \`rem schema list\`)`, {
      tenant: t.name,
      schema: name,
    });
  }
  return spec;
}

export interface InsertOptions {
  /** Names each object in errors: e.g. (i) => `line ${i + 1}`. */
  readonly where?: (index: number) => string;
  readonly perCommit?: number;
  readonly onProgress?: (done: number) => void;
  /**
   * Embed the inserted entities' embedded fields before returning, so they are
   * searchable at once (default true). Bulk loads may skip it and run the
   * backlog later (`rem embed`).
   */
  readonly embed?: boolean;
  /** Provider resolution for the embedding step (tests inject counting or failing providers). */
  readonly providers?: (spec: string) => EmbeddingProvider;
}

export interface InsertResult {
  readonly ids: string[];
  readonly seq: number;
  /**
   * For schemas with embedded fields: embeddings recorded now and texts still
   * pending. A provider failure does not fail the insert (the entities are
   * durable); it is reported here and the texts stay in the backlog.
   */
  readonly embeddings?: { readonly embedded: number; readonly pending: number; readonly error?: ReturnType<RemError["toJSON"]> };
}

/**
 * Validates every object against the schema first (nothing is appended if any
 * fails), derives ids (explicit `id`, else uri/key_field/key/name, else random),
 * then appends the upserts: in one commit when they fit, else in commits of
 * `perCommit` (each atomic).
 */
export async function insertEntities(t: Tenant, schema: string, objects: readonly unknown[], o: InsertOptions = {}): Promise<InsertResult> {
  const spec = requireSchema(t, schema);
  if (objects.length === 0) throw new RemError("REM_ERR_INVALID_ARGUMENT", "nothing to insert", { schema });
  const where = o.where ?? ((i: number) => (objects.length === 1 ? "entity" : `[${i}]`));
  const events: Event[] = [];
  const ids: string[] = [];
  for (let i = 0; i < objects.length; i++) {
    const data = canonicalJsonObject(objects[i], where(i));
    const explicit = data.id;
    if (explicit !== undefined && (typeof explicit !== "string" || !UUID_PATTERN.test(explicit.toLowerCase()))) {
      throw new RemError("REM_ERR_ENTITY_INVALID", `${where(i)}: id must be a UUID (or left out to derive one)`, { path: "id", field: "id" });
    }
    validateEntity(spec, withoutId(data), where(i));
    const { id } = identify(spec, data);
    ids.push(id);
    events.push({ type: "entity.upserted", v: 1, id: randomUUID(), entity_id: id, schema, data: withoutId(data) });
  }
  const results = await appendCommits(t.log, events, { perCommit: o.perCommit ?? 1000, onCommit: (n) => o.onProgress?.(n) });
  const seq = Math.max(...results.map((r) => r.seq));
  await t.sync(seq);
  if (spec.embeddingFields.length === 0) return { ids, seq };
  if (o.embed === false) return { ids, seq, embeddings: { embedded: 0, pending: ids.length * spec.embeddingFields.length } };
  const r = await embedPending(t, { ids, providers: o.providers });
  const embeddings = { embedded: r.embedded, pending: r.pending, ...(r.error === undefined ? {} : { error: r.error.toJSON() }) };
  // Its own last commit, not the log's head: another writer (the server's background embedding
  // drain) may have appended a commit this call has not waited to apply.
  return { ids, seq: Math.max(seq, r.seq), embeddings };
}

export async function deleteEntity(t: Tenant, id: string): Promise<{ id: string; seq: number }> {
  const rec = requireLive(t, id);
  const r = await t.log.append([{ type: "entity.deleted", v: 1, id: randomUUID(), entity_id: rec.id, schema: rec.schema }]);
  await t.sync(r.seq);
  return { id: rec.id, seq: r.seq };
}

export async function addEdge(t: Tenant, src: string, dst: string, type: string, props: unknown = {}): Promise<{ seq: number }> {
  requireLive(t, src);
  requireLive(t, dst);
  const p = canonicalJsonObject(props ?? {}, "props");
  const r = await t.log.append([{ type: "edge.added", v: 1, id: randomUUID(), src: src.toLowerCase(), dst: dst.toLowerCase(), edge_type: type, props: p }]);
  await t.sync(r.seq);
  return { seq: r.seq };
}

export async function removeEdge(t: Tenant, src: string, dst: string, type: string): Promise<{ seq: number }> {
  const exists = t.store.adjacency(src.toLowerCase(), "out").some(([ty, d]) => ty === type && d === dst.toLowerCase());
  if (!exists) throw new RemError("REM_ERR_NOT_FOUND", `no edge ${src} -[${type}]-> ${dst}`, { src, dst, type });
  const r = await t.log.append([{ type: "edge.removed", v: 1, id: randomUUID(), src: src.toLowerCase(), dst: dst.toLowerCase(), edge_type: type }]);
  await t.sync(r.seq);
  return { seq: r.seq };
}

/** A live entity by id, or REM_ERR_NOT_FOUND saying whether it never existed or was deleted. */
export function requireLive(t: Tenant, id: string): { id: string; schema: string } {
  const norm = id.toLowerCase();
  if (!UUID_PATTERN.test(norm)) throw new RemError("REM_ERR_INVALID_ARGUMENT", `${JSON.stringify(id)} is not an entity id (a UUID)`, { id });
  const state = t.store.entityState(norm);
  if (state === undefined) throw new RemError("REM_ERR_NOT_FOUND", `no entity ${norm} in tenant ${t.name}`, { tenant: t.name, id: norm });
  if (!state.live) throw new RemError("REM_ERR_NOT_FOUND", `entity ${norm} was deleted`, { tenant: t.name, id: norm, deleted: true });
  return { id: norm, schema: state.schema };
}

function withoutId(data: JsonObject): JsonObject {
  if (data.id === undefined) return data;
  const { id: _id, ...rest } = data;
  return rest;
}

export type { Seq };
