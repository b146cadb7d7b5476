import { z } from "zod";
import type { JsonObject } from "./json-value.js";

/**
 * The event model. Every change to a tenant is one of these events; the log is
 * the only source of truth and everything else is derived from it.
 *
 * Each kind has a `type` (the discriminant), a per-kind version `v` (for
 * upcasting old events, see upcast.ts) and an event `id` (a UUID chosen by the
 * writer; the same ids make the same commit id, which makes retries idempotent).
 * Field names are snake_case because they are also the wire format.
 */

/** Lowercase UUID text, any version (entity ids are BLAKE3-derived, version 8). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Schema names are SQL table and view names: lowercase, no quoting needed. */
export const SCHEMA_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Edge types, e.g. `authored_by`, `RELATES_TO`, `rem:part-of`. */
export const EDGE_TYPE_PATTERN = /^[A-Za-z0-9_:.-]{1,64}$/;

const uuid = z.string().regex(UUID_PATTERN, "expected a lowercase UUID");
const schemaName = z.string().regex(SCHEMA_NAME_PATTERN, "expected a schema name: a-z, 0-9, '_', starting with a letter, at most 64 characters");
const edgeType = z.string().regex(EDGE_TYPE_PATTERN, "expected an edge type: 1-64 of A-Z a-z 0-9 _ : . -");
const keyIdHex = z.string().regex(/^[0-9a-f]{16}$/, "expected a key id: 16 hex digits");
/** Objects are checked and canonicalised by canonicalJsonObject, not by zod (it is faster and names the path). */
export const jsonObject = z.custom<JsonObject>((v) => v !== null && typeof v === "object" && !Array.isArray(v), "expected an object");
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected binary data");
const float32s = z.custom<Float32Array>((v) => v instanceof Float32Array, "expected a float32 vector");

const base = { v: z.number().int().positive(), id: uuid };

export const EntityUpserted = z.object({
  type: z.literal("entity.upserted"),
  ...base,
  entity_id: uuid,
  schema: schemaName,
  /** User fields only; system fields (id, created_at, …) are derived by projections. */
  data: jsonObject,
});

export const EntityDeleted = z.object({
  type: z.literal("entity.deleted"),
  ...base,
  entity_id: uuid,
  schema: schemaName,
});

export const EdgeAdded = z.object({
  type: z.literal("edge.added"),
  ...base,
  src: uuid,
  dst: uuid,
  edge_type: edgeType,
  props: jsonObject,
});

export const EdgeRemoved = z.object({
  type: z.literal("edge.removed"),
  ...base,
  src: uuid,
  dst: uuid,
  edge_type: edgeType,
});

export const SchemaRegistered = z.object({
  type: z.literal("schema.registered"),
  ...base,
  name: schemaName,
  /** A JSON Schema document with REM extensions (see schema/). */
  definition: jsonObject,
});

export const SchemaChanged = z.object({
  type: z.literal("schema.changed"),
  ...base,
  name: schemaName,
  definition: jsonObject,
});

export const SchemaDropped = z.object({
  type: z.literal("schema.dropped"),
  ...base,
  name: schemaName,
});

export const EmbeddingRecorded = z
  .object({
    type: z.literal("embedding.recorded"),
    ...base,
    entity_id: uuid,
    schema: schemaName,
    field: z.string().min(1).max(256),
    model: z.string().min(1).max(256),
    dim: z.number().int().min(1).max(65536),
    vector: float32s,
    /** BLAKE3 of the embedded text (first 16 bytes, hex): tells a current embedding from one of older text. */
    text_hash: z.string().regex(/^[0-9a-f]{32}$/, "expected 32 hex digits"),
  })
  .refine((e) => e.vector.length === e.dim, { message: "vector length must equal dim", path: ["vector"] })
  .refine((e) => e.vector.every(Number.isFinite), { message: "vector must hold finite numbers", path: ["vector"] });

export const KeyRotated = z
  .object({
    type: z.literal("key.rotated"),
    ...base,
    /** `signing`: a new Ed25519 writer key; `data`: a new tenant data (encryption) key. */
    purpose: z.enum(["signing", "data"]),
    key_id: keyIdHex,
    /** The new signing key's raw 32-byte public key; absent for data keys (never logged). */
    public_key: bytes.optional(),
    previous_key_id: keyIdHex.nullable(),
  })
  .refine((e) => (e.purpose === "signing") === (e.public_key !== undefined), {
    message: "public_key is required for signing keys and forbidden for data keys",
    path: ["public_key"],
  })
  .refine((e) => e.public_key === undefined || e.public_key.length === 32, {
    message: "public_key must be 32 bytes",
    path: ["public_key"],
  });

/**
 * Every event kind. New kinds are added here (and to EVENT_TYPES, the spec and
 * the encoder's field order); readers that meet an unknown type refuse it with
 * REM_ERR_UNSUPPORTED_VERSION rather than skip it.
 */
export const Event = z.discriminatedUnion("type", [
  EntityUpserted,
  EntityDeleted,
  EdgeAdded,
  EdgeRemoved,
  SchemaRegistered,
  SchemaChanged,
  SchemaDropped,
  EmbeddingRecorded,
  KeyRotated,
]);

export type Event = z.infer<typeof Event>;
export type EventType = Event["type"];
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;

export type EntityUpserted = EventOf<"entity.upserted">;
export type EntityDeleted = EventOf<"entity.deleted">;
export type EdgeAdded = EventOf<"edge.added">;
export type EdgeRemoved = EventOf<"edge.removed">;
export type SchemaRegistered = EventOf<"schema.registered">;
export type SchemaChanged = EventOf<"schema.changed">;
export type SchemaDropped = EventOf<"schema.dropped">;
export type EmbeddingRecorded = EventOf<"embedding.recorded">;
export type KeyRotated = EventOf<"key.rotated">;

/** The current version of each kind, and its fields in canonical (wire) order after `type`, `v`, `id`. */
export const EVENT_TYPES = {
  "entity.upserted": { v: 1, fields: ["entity_id", "schema", "data"] },
  "entity.deleted": { v: 1, fields: ["entity_id", "schema"] },
  "edge.added": { v: 1, fields: ["src", "dst", "edge_type", "props"] },
  "edge.removed": { v: 1, fields: ["src", "dst", "edge_type"] },
  "schema.registered": { v: 1, fields: ["name", "definition"] },
  "schema.changed": { v: 1, fields: ["name", "definition"] },
  "schema.dropped": { v: 1, fields: ["name"] },
  "embedding.recorded": { v: 1, fields: ["entity_id", "schema", "field", "model", "dim", "vector", "text_hash"] },
  "key.rotated": { v: 1, fields: ["purpose", "key_id", "public_key", "previous_key_id"] },
} as const satisfies Record<EventType, { v: number; fields: readonly string[] }>;

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && Object.hasOwn(EVENT_TYPES, value);
}
