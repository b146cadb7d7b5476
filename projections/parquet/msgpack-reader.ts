import { skip } from "../../events/codec/msgpack-skip.js";
import { unpack } from "../store/records.js";
import type { JsonValue } from "../../events/model/json-value.js";

/**
 * A cursor over MessagePack bytes, for reading stored entity records without
 * building JavaScript objects for them (the full-export hot path). Each read
 * either consumes a value of the expected type or leaves the cursor where it
 * was, so the caller can `skip()` or `value()` it instead.
 *
 * Records are written by msgpackr (projections/store/records.ts) with plain
 * maps and arrays, str for strings, and no extensions; anything else still
 * decodes through `value()` (which falls back to msgpackr).
 */
export class MsgReader {
  buf: Buffer;
  pos = 0;
  /** The length of the last string read by str(). */
  len = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Points the reader at another buffer (no allocation: this runs once per stored record). */
  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
  }

  /** Consumes a nil. */
  nil(): boolean {
    if (this.buf[this.pos] !== 0xc0) return false;
    this.pos++;
    return true;
  }

  /** Consumes a boolean, or returns undefined. */
  bool(): boolean | undefined {
    const b = this.buf[this.pos];
    if (b === 0xc2 || b === 0xc3) {
      this.pos++;
      return b === 0xc3;
    }
    return undefined;
  }

  /** Consumes a number (any integer or float encoding), or returns undefined. */
  number(): number | undefined {
    const buf = this.buf;
    const b = buf[this.pos]!;
    const p = this.pos + 1;
    let n: number;
    if (b <= 0x7f) n = b;
    else if (b >= 0xe0) n = b - 0x100;
    else {
      switch (b) {
        case 0xcb:
          this.pos += 9;
          return buf.readDoubleBE(p);
        case 0xca:
          this.pos += 5;
          return buf.readFloatBE(p);
        case 0xcc:
          this.pos += 2;
          return buf[p]!;
        case 0xcd:
          this.pos += 3;
          return buf.readUInt16BE(p);
        case 0xce:
          this.pos += 5;
          return buf.readUInt32BE(p);
        case 0xcf:
          this.pos += 9;
          return Number(buf.readBigUInt64BE(p));
        case 0xd0:
          this.pos += 2;
          return buf.readInt8(p);
        case 0xd1:
          this.pos += 3;
          return buf.readInt16BE(p);
        case 0xd2:
          this.pos += 5;
          return buf.readInt32BE(p);
        case 0xd3:
          this.pos += 9;
          return Number(buf.readBigInt64BE(p));
        default:
          return undefined;
      }
    }
    this.pos++;
    return n;
  }

  /** Consumes a string: returns its byte offset (its length in `len`), or -1 when the next value is not a string. */
  str(): number {
    const b = this.buf[this.pos]!;
    let len: number;
    let head: number;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      head = 1;
    } else if (b === 0xd9) {
      len = this.buf[this.pos + 1]!;
      head = 2;
    } else if (b === 0xda) {
      len = this.buf.readUInt16BE(this.pos + 1);
      head = 3;
    } else if (b === 0xdb) {
      len = this.buf.readUInt32BE(this.pos + 1);
      head = 5;
    } else return -1;
    const start = this.pos + head;
    this.pos = start + len;
    this.len = len;
    return start;
  }

  /** Consumes a map header: the number of entries, or -1 when the next value is not a map. */
  map(): number {
    const b = this.buf[this.pos]!;
    if (b >= 0x80 && b <= 0x8f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xde) {
      this.pos += 3;
      return this.buf.readUInt16BE(this.pos - 2);
    }
    if (b === 0xdf) {
      this.pos += 5;
      return this.buf.readUInt32BE(this.pos - 4);
    }
    return -1;
  }

  /** Consumes an array header: the number of items, or -1 when the next value is not an array. */
  array(): number {
    const b = this.buf[this.pos]!;
    if (b >= 0x90 && b <= 0x9f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xdc) {
      this.pos += 3;
      return this.buf.readUInt16BE(this.pos - 2);
    }
    if (b === 0xdd) {
      this.pos += 5;
      return this.buf.readUInt32BE(this.pos - 4);
    }
    return -1;
  }

  /** Consumes one value of any type. */
  skip(): void {
    this.pos = this.#end();
  }

  /** Where the value at the cursor ends (the shared skipper); throws when it is malformed. */
  #end(): number {
    const end = skip(this.buf, this.pos);
    if (end < 0) throw new Error(`malformed MessagePack value at ${this.pos}`);
    return end;
  }

  /** Consumes and decodes one value (as msgpackr would: maps as objects). */
  value(): JsonValue {
    if (this.nil()) return null;
    const b = this.bool();
    if (b !== undefined) return b;
    const n = this.number();
    if (n !== undefined) return n;
    const s = this.str();
    if (s >= 0) return this.buf.toString("utf8", s, s + this.len);
    let count = this.map();
    if (count >= 0) {
      const out: Record<string, JsonValue> = {};
      for (let i = 0; i < count; i++) {
        out[objectKey(this.value())] = this.value();
      }
      return out;
    }
    count = this.array();
    if (count >= 0) {
      const out: JsonValue[] = new Array<JsonValue>(count);
      for (let i = 0; i < count; i++) out[i] = this.value();
      return out;
    }
    // bin or ext: msgpackr reads what this reader does not
    const start = this.pos;
    this.pos = this.#end();
    return unpack<JsonValue>(this.buf.subarray(start, this.pos));
  }

  /** Whether bytes [start, start + len) are ASCII (then each byte is one UTF-16 unit). */
  ascii(start: number, len: number): boolean {
    const b = this.buf;
    for (let i = start; i < start + len; i++) if (b[i]! >= 0x80) return false;
    return true;
  }

  /** Whether bytes [start, start + len) are well-formed UTF-8 (what a JS string re-encodes to the same bytes). */
  utf8(start: number, len: number): boolean {
    const b = this.buf;
    const end = start + len;
    let i = start;
    while (i < end) {
      const c = b[i]!;
      if (c < 0x80) {
        i++;
        continue;
      }
      let need: number;
      let min: number;
      if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        min = 0x80;
      } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        min = 0x800;
      } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        min = 0x10000;
      } else return false;
      if (i + need >= end) return false;
      let cp = c & (0x3f >> need);
      for (let k = 1; k <= need; k++) {
        const cc = b[i + k]!;
        if ((cc & 0xc0) !== 0x80) return false;
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
      i += need + 1;
    }
    return true;
  }
}

/** A map key as msgpackr makes it: text, with `__proto__` renamed `__proto_` (so a key never sets a prototype). */
export function objectKey(k: JsonValue): string {
  const key = typeof k === "string" ? k : JSON.stringify(k);
  return key === "__proto__" ? "__proto_" : key;
}
