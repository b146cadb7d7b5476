import duckdb from "@duckdb/node-bindings";
import type { DuckDBDataChunk } from "@duckdb/node-api";
import type { EntityRecord } from "../store/records.js";
import { BigIntBuilder, BooleanBuilder, builderFor, FloatListBuilder, matchKey, MillisBuilder, StringBuilder, UuidBuilder, type Builder } from "./builders.js";
import type { ExportPlan } from "./columns.js";
import { MsgReader, objectKey } from "./msgpack-reader.js";

/** One row of an export file: an entity's current record, or a tombstone. */
export interface ExportRow {
  readonly rec: EntityRecord;
  /** A tombstone (deleted, or gone from this schema): it hides older rows of the id. */
  readonly deleted: boolean;
  /** Per embedding column of the plan: the field's current vector, or null. */
  readonly vectors?: readonly (Float32Array | null)[];
}

const TOP_KEYS = ["id", "schema", "data", "created_at", "modified_at", "deleted_at", "seq"].map((k) => Buffer.from(k));
const [K_ID, K_SCHEMA, K_DATA, K_CREATED, K_MODIFIED, K_DELETED, K_SEQ] = [0, 1, 2, 3, 4, 5, 6] as const;

/**
 * The rows of one data chunk, column by column in staging order (columns.ts:
 * id, times, fields, _extra, embeddings, _seq, _deleted). Rows are added from
 * decoded records (`add`) or straight from a stored record's bytes
 * (`addEncoded`); both fill the same builders, so both write the same values.
 * The full export uses a transcoder generated per plan instead of
 * `addEncoded` (transcoder.ts): `addEncoded` is its reference, checked by a
 * property test, and the path for plans it does not cover.
 */
export class RowBuilder {
  readonly #id = new UuidBuilder();
  readonly #created = new MillisBuilder();
  readonly #modified = new MillisBuilder();
  readonly #deletedAt = new MillisBuilder();
  readonly #fields: Builder[];
  readonly #fieldNames: string[];
  readonly #fieldKeys: Buffer[];
  readonly #declared: Set<string>;
  readonly #extra = new StringBuilder(false);
  readonly #embeddings: FloatListBuilder[];
  readonly #seq = new BigIntBuilder();
  readonly #deleted = new BooleanBuilder();
  readonly #all: Builder[];
  readonly #seen: Uint8Array;
  readonly #reader = new MsgReader(Buffer.alloc(0));
  /** Which top-level keys a record had (reused: addEncoded runs once per stored record). */
  readonly #filled = new Uint8Array(7);
  readonly #single: readonly (Builder | null)[];

  constructor(plan: ExportPlan) {
    this.#fields = plan.fields.map((f) => builderFor(f.type));
    this.#fieldNames = plan.fields.map((f) => f.field);
    this.#fieldKeys = plan.fields.map((f) => Buffer.from(f.field, "utf8"));
    this.#declared = new Set(this.#fieldNames);
    this.#embeddings = plan.embeddings.map(() => new FloatListBuilder());
    this.#all = [this.#id, this.#created, this.#modified, this.#deletedAt, ...this.#fields, this.#extra, ...this.#embeddings, this.#seq, this.#deleted];
    this.#seen = new Uint8Array(plan.fields.length);
    this.#single = [this.#id, null, null, this.#created, this.#modified, this.#deletedAt, this.#seq];
  }

  get count(): number {
    return this.#id.count;
  }

  /** The column builders in staging order (generated transcoders write into them: transcoder.ts). */
  get columns(): readonly Builder[] {
    return this.#all;
  }

  /** Adds a decoded row. */
  add(row: ExportRow): void {
    const { rec } = row;
    this.#id.js(rec.id);
    this.#created.js(rec.created_at);
    this.#modified.js(rec.modified_at);
    this.#deletedAt.js(rec.deleted_at);
    let extra: Record<string, unknown> | null = null;
    for (let j = 0; j < this.#fields.length; j++) {
      const name = this.#fieldNames[j]!;
      if (!this.#fields[j]!.js(rec.data[name])) (extra ??= {})[name] = rec.data[name];
    }
    for (const k in rec.data) if (!this.#declared.has(k)) (extra ??= {})[k] = rec.data[k];
    this.#extra.js(extra === null ? null : canonicalJson(extra));
    this.#embeddings.forEach((b, j) => b.js(row.vectors?.[j] ?? null));
    this.#seq.js(rec.seq);
    this.#deleted.js(row.deleted);
  }

  /**
   * Adds a stored entity record (MessagePack) without decoding it into objects.
   * Tombstones (deleted entities) are skipped when `liveOnly`: returns whether
   * a row was added. Not for plans with embeddings (their vectors are looked
   * up per id: use `add`).
   */
  addEncoded(bytes: Buffer, liveOnly: boolean): boolean {
    const r = this.#reader;
    r.reset(bytes);
    const mark = this.count;
    const entries = r.map();
    if (entries < 0) throw new Error("not an entity record");
    let extra: Record<string, unknown> | null = null;
    let deleted = false;
    const filled = this.#filled;
    filled.fill(0);
    for (let e = 0; e < entries; e++) {
      const ks = r.str();
      const key = ks < 0 ? -1 : topKey(r.buf, ks, r.len);
      if (key >= 0) filled[key] = 1;
      switch (key) {
        case K_ID:
          this.#id.mp(r);
          break;
        case K_CREATED:
          this.#created.mp(r);
          break;
        case K_MODIFIED:
          this.#modified.mp(r);
          break;
        case K_DELETED:
          deleted = r.buf[r.pos] !== 0xc0;
          this.#deletedAt.mp(r);
          break;
        case K_SEQ:
          this.#seq.mp(r);
          break;
        case K_DATA:
          extra = this.#data(r);
          break;
        default:
          if (ks < 0) r.skip();
          r.skip(); // the schema name (constant per file), or an unknown key
      }
    }
    for (let k = 0; k < 7; k++) if (filled[k] === 0) this.#single[k]?.null();
    if (filled[K_DATA] === 0) for (const f of this.#fields) f.null();
    if (deleted && liveOnly) {
      for (const b of this.#all) if (b.count > mark) b.rollback(mark);
      return false;
    }
    this.#extra.js(extra === null ? null : canonicalJson(extra));
    for (const b of this.#embeddings) b.null();
    this.#deleted.js(deleted);
    return true;
  }

  /** Reads the data map into the field builders; returns what goes to `_extra`. */
  #data(r: MsgReader): Record<string, unknown> | null {
    const n = r.map();
    if (n < 0) {
      r.skip();
      for (const f of this.#fields) f.null();
      return null;
    }
    let extra: Record<string, unknown> | null = null;
    const seen = this.#seen;
    seen.fill(0);
    let next = 0;
    for (let i = 0; i < n; i++) {
      const ks = r.str();
      if (ks < 0) {
        r.skip();
        r.skip();
        continue;
      }
      const j = matchKey(r.buf, ks, r.len, this.#fieldKeys, next);
      if (j < 0 || seen[j] === 1) {
        (extra ??= {})[objectKey(r.buf.toString("utf8", ks, ks + r.len))] = r.value();
        continue;
      }
      seen[j] = 1;
      next = j + 1;
      const start = r.pos;
      if (!this.#fields[j]!.mp(r)) {
        const end = r.pos;
        r.pos = start;
        (extra ??= {})[this.#fieldNames[j]!] = r.value();
        r.pos = end;
      }
    }
    for (let j = 0; j < seen.length; j++) if (seen[j] === 0) this.#fields[j]!.null();
    return extra;
  }

  /** Writes the rows into a data chunk (of the staging table's types) and starts over. */
  fill(chunk: DuckDBDataChunk): number {
    const n = this.count;
    this.#all.forEach((b, c) => b.flush(duckdb.data_chunk_get_vector(chunk.chunk, c)));
    chunk.rowCount = n;
    return n;
  }
}

/** Which top-level key of an entity record (records.ts) the bytes spell, or -1: by length and first byte, then checked. */
export function topKey(buf: Buffer, start: number, len: number): number {
  let k: number;
  switch (len) {
    case 2:
      k = K_ID;
      break;
    case 3:
      k = K_SEQ;
      break;
    case 4:
      k = K_DATA;
      break;
    case 6:
      k = K_SCHEMA;
      break;
    case 10:
      k = buf[start] === 0x63 ? K_CREATED : K_DELETED; // "c"reated_at, "d"eleted_at
      break;
    case 11:
      k = K_MODIFIED;
      break;
    default:
      return -1;
  }
  const key = TOP_KEYS[k]!;
  for (let b = 0; b < len; b++) if (key[b] !== buf[start + b]) return -1;
  return k;
}

/** `_extra` as JSON text with sorted keys, so every export of the same entity writes the same text. */
export function canonicalJson(o: Record<string, unknown>): string {
  const keys = Object.keys(o);
  if (keys.length < 2) return JSON.stringify(o);
  const out: Record<string, unknown> = {};
  for (const k of keys.sort()) out[k] = o[k];
  return JSON.stringify(out);
}
