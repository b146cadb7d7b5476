import { Packr, RESET_BUFFER_MODE } from "msgpackr";
import type { JsonObject } from "../../events/model/json-value.js";
import type { IndexValue } from "./keys.js";

/** Values in the projection store are MessagePack (faster than JSON to decode; the store is rebuildable, so the format may change freely). */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * As pack, into msgpackr's reused buffer: the result is overwritten by the next
 * pack anywhere in the process, so it must be consumed (copied) at once — as
 * LevelDB's batch put does. The rebuild path packs one record per entity;
 * plain pack moves through the buffer and allocates a new one whenever it fills.
 */
export function packTransient(value: unknown): Uint8Array {
  return packr.pack(value, RESET_BUFFER_MODE);
}

export function unpack<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/** An entity as stored: user data plus what the projection derived from the log. */
export interface EntityRecord {
  readonly id: string;
  readonly schema: string;
  readonly data: JsonObject;
  /** ms since epoch, from commit timestamps */
  readonly created_at: number;
  readonly modified_at: number;
  readonly deleted_at: number | null;
  /** the last commit that changed it */
  readonly seq: number;
}

export interface SchemaRecord {
  readonly name: string;
  readonly definition: JsonObject;
  /** sequence of the commit that registered or last changed it */
  readonly version: number;
  readonly created_at: number;
  readonly modified_at: number;
}

export interface EdgeRecord {
  readonly src: string;
  readonly dst: string;
  readonly type: string;
  readonly props: JsonObject;
  readonly created_at: number;
}

export interface Checkpoint {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly ts: number;
}

/** An entity field's current embedding. */
export interface VectorRecord {
  readonly model: string;
  readonly dim: number;
  /** float32 little-endian */
  readonly vector: Uint8Array;
  /** BLAKE3 (16 bytes, hex) of the text it embeds */
  readonly text_hash: string;
  /** the commit that recorded it */
  readonly seq: number;
}

/** A vector change a batch made, for the in-memory HNSW indexes (null: removed). */
export interface VectorValueChange {
  readonly kind: "vector";
  readonly schema: string;
  readonly field: string;
  readonly id: string;
  readonly vector: Float32Array | null;
}

/**
 * A field-index entry of a schema with embedding fields that a batch put
 * (`add`) or deleted: the in-memory posting lists mirror these entries.
 */
export interface PostingChange {
  readonly kind: "posting";
  readonly schema: string;
  readonly field: string;
  readonly id: string;
  readonly value: IndexValue;
  readonly add: boolean;
}

/** A schema registered, changed or dropped: its posting lists are dropped and rebuilt from the store. */
export interface SchemaMark {
  readonly kind: "schema";
  readonly schema: string;
}

/** What the in-memory vector projection (HNSW indexes, posting lists) follows, in batch order. */
export type VectorChange = VectorValueChange | PostingChange | SchemaMark;

/** A float32 view of a stored vector (copied: stored bytes may be unaligned). */
export function vectorOf(rec: VectorRecord): Float32Array {
  const f = new Float32Array(rec.dim);
  new Uint8Array(f.buffer).set(rec.vector.subarray(0, rec.dim * 4));
  return f;
}
