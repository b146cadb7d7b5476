import { writeStrHeader } from "./msgpack-str.js";
import type { EntityRecord } from "./records.js";

/**
 * An entity record's MessagePack, written by hand around the bytes of its
 * `data` as the log holds them: re-encoding the decoded object was the largest
 * cost of applying an upsert. The result equals `pack(rec)` from records.ts
 * whenever `data` equals `pack(rec.data)`, which the log's canonical encoding
 * gives (a property test checks both); either way it unpacks to the same record.
 */

const KEY = (s: string): Buffer => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s, "latin1")]);
const MAP7 = 0x87;
const K_ID = KEY("id");
const K_SCHEMA = KEY("schema");
const K_DATA = KEY("data");
const K_CREATED = KEY("created_at");
const K_MODIFIED = KEY("modified_at");
const K_DELETED = KEY("deleted_at");
const K_SEQ = KEY("seq");

let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * The record's bytes in a buffer reused by the next call: consume (copy) them
 * at once, as LevelDB's batch put does. Null when `id` or `schema` is not
 * ASCII (then plain `pack` is the reference; those never occur in ids REM makes).
 */
export function packEntityTransient(rec: EntityRecord, data: Uint8Array): Uint8Array | null {
  const need = 1 + 64 + 10 + rec.id.length + rec.schema.length + data.length + 4 * 20;
  if (need > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(need, scratch.length * 2));
  const b = scratch;
  let o = 0;
  b[o++] = MAP7;
  o = copy(b, o, K_ID);
  o = writeAscii(b, o, rec.id);
  if (o < 0) return null;
  o = copy(b, o, K_SCHEMA);
  o = writeAscii(b, o, rec.schema);
  if (o < 0) return null;
  o = copy(b, o, K_DATA);
  b.set(data, o);
  o += data.length;
  o = copy(b, o, K_CREATED);
  o = writeNumber(b, o, rec.created_at);
  o = copy(b, o, K_MODIFIED);
  o = writeNumber(b, o, rec.modified_at);
  o = copy(b, o, K_DELETED);
  o = rec.deleted_at === null ? ((b[o] = 0xc0), o + 1) : writeNumber(b, o, rec.deleted_at);
  o = copy(b, o, K_SEQ);
  o = writeNumber(b, o, rec.seq);
  return b.subarray(0, o);
}

function copy(b: Buffer, o: number, src: Buffer): number {
  for (let i = 0; i < src.length; i++) b[o + i] = src[i]!;
  return o + src.length;
}

/** A str of `s` in the smallest header; -1 when `s` is not ASCII. Strings are short: a loop beats a native call. */
function writeAscii(b: Buffer, o: number, s: string): number {
  const n = s.length;
  o = writeStrHeader(b, o, n);
  let high = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    high |= c;
    b[o + i] = c;
  }
  return high < 0x80 ? o + n : -1;
}

/** A number as msgpackr writes it without records or float32: the smallest int form for 32-bit integers, else float64. */
function writeNumber(b: Buffer, o: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) b[o++] = v;
    else if (v < 0x100) {
      b[o++] = 0xcc;
      b[o++] = v;
    } else if (v < 0x10000) {
      b[o++] = 0xcd;
      b[o++] = v >> 8;
      b[o++] = v & 0xff;
    } else {
      b[o++] = 0xce;
      b.writeUInt32BE(v, o);
      o += 4;
    }
    return o;
  }
  if (v >> 0 === v) {
    if (v >= -0x20) b[o++] = 0x100 + v;
    else if (v >= -0x80) {
      b[o++] = 0xd0;
      b[o++] = v + 0x100;
    } else if (v >= -0x8000) {
      b[o++] = 0xd1;
      b.writeInt16BE(v, o);
      o += 2;
    } else {
      b[o++] = 0xd2;
      b.writeInt32BE(v, o);
      o += 4;
    }
    return o;
  }
  b[o++] = 0xcb;
  b.writeDoubleBE(v, o);
  return o + 8;
}
