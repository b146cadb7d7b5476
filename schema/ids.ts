import { randomUUID } from "node:crypto";
import { blake3, utf8 } from "../events/hash.js";
import type { JsonObject, JsonValue } from "../events/model/json-value.js";
import type { SchemaSpec } from "./definition.js";

/** Which value an entity's id came from (docs/data-model.md, "Deterministic ids"). */
export type IdSource = "id" | "uri" | "key_field" | "key" | "name" | "random";

export interface EntityIdentity {
  readonly id: string;
  readonly source: IdSource;
  /** The natural key (uri, key_field value, key or name) that the key index maps to the id; null for random ids. */
  readonly key: string | null;
}

const CONTEXT = utf8("rem/entity-id/v1");
const SEP = new Uint8Array([0]);

function keyText(v: JsonValue | undefined): string | null {
  if (typeof v === "string") return v === "" ? null : v;
  if (typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
  return null;
}

/**
 * A UUID from BLAKE3("rem/entity-id/v1" ‖ 0x00 ‖ entity type ‖ 0x00 ‖ source ‖ 0x00 ‖ value
 * [‖ 0x00 ‖ chunk_ordinal]), first 16 bytes, with the RFC 9562 version 8 (custom) and variant bits.
 */
export function deterministicId(entityType: string, source: Exclude<IdSource, "id" | "random">, value: string, chunkOrdinal?: string): string {
  const parts = [CONTEXT, SEP, utf8(entityType), SEP, utf8(source), SEP, utf8(value)];
  if (chunkOrdinal !== undefined) parts.push(SEP, utf8(chunkOrdinal));
  const b = blake3(...parts).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const h = Buffer.from(b).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The id of an entity, by precedence: an explicit `id` (a UUID); `uri` (+ `chunk_ordinal`);
 * the schema's `key_field`; `key`; `name`; else random. Same key, same id: inserting
 * it again is an upsert.
 */
export function identify(spec: SchemaSpec, data: JsonObject): EntityIdentity {
  const explicit = data.id;
  if (typeof explicit === "string") return { id: explicit.toLowerCase(), source: "id", key: null };
  const uri = keyText(data.uri);
  if (uri !== null) {
    const ordinal = data.chunk_ordinal === undefined || data.chunk_ordinal === null ? undefined : (keyText(data.chunk_ordinal) ?? undefined);
    return { id: deterministicId(spec.name, "uri", uri, ordinal), source: "uri", key: uri };
  }
  if (spec.keyField !== null) {
    const v = keyText(data[spec.keyField]);
    if (v !== null) return { id: deterministicId(spec.name, "key_field", v), source: "key_field", key: v };
  }
  for (const field of ["key", "name"] as const) {
    const v = keyText(data[field]);
    if (v !== null) return { id: deterministicId(spec.name, field, v), source: field, key: v };
  }
  return { id: randomUUID(), source: "random", key: null };
}

/** The natural key of stored user data (for the key index), by the same precedence, or null. */
export function naturalKey(keyField: string | null, data: JsonObject): string | null {
  const uri = keyText(data.uri);
  if (uri !== null) return uri;
  if (keyField !== null) {
    const v = keyText(data[keyField]);
    if (v !== null) return v;
  }
  return keyText(data.key) ?? keyText(data.name);
}
