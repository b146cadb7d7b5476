import type { JsonValue } from "../../events/model/json-value.js";

/**
 * Order-preserving binary encodings for LevelDB keys: comparing encoded keys
 * bytewise gives the same order as comparing the values (docs/data-model.md).
 */

const textEncoder = new TextEncoder();

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[97 + i] = 10 + i;
  HEX_VALUE[65 + i] = 10 + i;
}

/** UUID text ↔ its 16 bytes (byte order = text order for lowercase hex). A hot path: no regex, no Buffer. */
export function uuidBytes(id: string): Uint8Array {
  // allocUnsafe takes a slice of Node's shared pool (one view object); alloc made a new ArrayBuffer.
  // writeUuid writes all 16 bytes.
  const out = Buffer.allocUnsafe(16);
  writeUuid(out, 0, id);
  return out;
}

/** Writes the 16 bytes of a UUID text at `offset` (keys built in one allocation). Writes every byte. */
export function writeUuid(out: Uint8Array, offset: number, id: string): void {
  if (id.length === 36 && id.charCodeAt(8) === 45 && id.charCodeAt(13) === 45 && id.charCodeAt(18) === 45 && id.charCodeAt(23) === 45) {
    // The canonical 8-4-4-4-12 form (every id REM makes): two digits per byte, ~1.5x faster.
    let bad = 0;
    let o = offset;
    for (let i = 0; i < 36; i += 2) {
      if (i === 8 || i === 13 || i === 18 || i === 23) i++;
      const a = id.charCodeAt(i);
      const b = id.charCodeAt(i + 1);
      const hi = HEX_VALUE[a & 127]!;
      const lo = HEX_VALUE[b & 127]!;
      bad |= hi | lo | ((a | b) & 0xff80);
      out[o++] = (hi << 4) | lo;
    }
    if (bad >= 0 && (bad & 0xff80) === 0) return;
    throw new Error(`not a UUID: ${JSON.stringify(id)}`);
  }
  let j = 0;
  for (let i = 0; i < id.length && j < 32; i++) {
    const c = id.charCodeAt(i);
    if (c === 45) continue; // '-'
    const v = c < 128 ? HEX_VALUE[c]! : -1;
    if (v < 0) throw new Error(`not a UUID: ${JSON.stringify(id)}`);
    const at = offset + (j >> 1);
    if ((j & 1) === 0) out[at] = v << 4;
    else out[at]! |= v;
    j++;
  }
  if (j !== 32) throw new Error(`not a UUID: ${JSON.stringify(id)}`);
}

export function uuidText(b: Uint8Array): string {
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) UUID_OUT[o++] = 0x2d; // "-"
    const v = b[i]!;
    UUID_OUT[o++] = HEX_DIGITS[2 * v]!;
    UUID_OUT[o++] = HEX_DIGITS[2 * v + 1]!;
  }
  // One native slice makes a flat string: slicing and concatenating hex made a rope that every Map
  // lookup by id (exact scoring of thousands of filter matches) had to flatten and hash anew (~3x slower).
  return UUID_OUT.toString("latin1", 0, 36);
}

/** Two ASCII hex digits per byte value. */
const HEX_DIGITS = (() => {
  const t = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    const h = i.toString(16).padStart(2, "0");
    t[2 * i] = h.charCodeAt(0);
    t[2 * i + 1] = h.charCodeAt(1);
  }
  return t;
})();
const UUID_OUT = Buffer.alloc(36);

/**
 * A string as a self-delimiting key part: UTF-8 with 0x00 escaped as 00 FF,
 * terminated by 00 01. A shorter string sorts before its extensions, and the
 * terminator can never be confused with content, whatever follows.
 */
export function encString(s: string): Uint8Array {
  const raw = textEncoder.encode(s);
  let zeros = 0;
  for (const b of raw) if (b === 0) zeros++;
  const out = Buffer.allocUnsafe(raw.length + zeros + 2);
  let j = 0;
  for (const b of raw) {
    out[j++] = b;
    if (b === 0) out[j++] = 0xff;
  }
  out[j++] = 0;
  out[j] = 1;
  return out;
}

/** Reads an encString at `offset`; returns the string and the offset after its terminator. */
export function decString(b: Uint8Array, offset: number): { value: string; next: number } {
  const bytes: number[] = [];
  let i = offset;
  for (;;) {
    const c = b[i]!;
    if (c === 0) {
      if (b[i + 1] === 0xff) {
        bytes.push(0);
        i += 2;
        continue;
      }
      return { value: Buffer.from(bytes).toString("utf8"), next: i + 2 };
    }
    bytes.push(c);
    i++;
  }
}

/** Type tags: their order is the sort order across types (nulls last, as PostgreSQL sorts ascending). */
export const TAG = { false: 0x10, true: 0x11, number: 0x20, date: 0x30, string: 0x40, null: 0xf0 } as const;

/** float64 → 8 bytes whose unsigned order is numeric order (sign bit flipped; negatives inverted). */
export function encNumber(n: number): Uint8Array {
  const b = new Uint8Array(8);
  writeNumber(b, 0, n);
  return b;
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** encNumber(n) written at `offset` without allocating (index keys are built on the rebuild hot path). */
export function writeNumber(out: Uint8Array, offset: number, n: number): void {
  F64[0] = n === 0 ? 0 : n; // fold -0
  // Big-endian bytes of the float64.
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) out[offset + i] = F64_BYTES[7 - i]!;
  else out.set(F64_BYTES, offset);
  if ((out[offset]! & 0x80) !== 0) {
    for (let i = 0; i < 8; i++) out[offset + i] = ~out[offset + i]! & 0xff;
  } else {
    out[offset] = out[offset]! | 0x80;
  }
}

export function decNumber(b: Uint8Array, offset: number): number {
  // A copy: Buffer#slice would return a view, and the bytes are flipped in place below.
  const c = Uint8Array.prototype.slice.call(b, offset, offset + 8);
  if ((c[0]! & 0x80) !== 0) c[0] = c[0]! & 0x7f;
  else for (let i = 0; i < 8; i++) c[i] = ~c[i]! & 0xff;
  return new DataView(c.buffer).getFloat64(0);
}

/** An indexed value: how it is compared (see projections/indexing.ts for which kind a field uses). */
export type IndexValue = { readonly t: "null" } | { readonly t: "bool"; readonly v: boolean } | { readonly t: "number"; readonly v: number } | { readonly t: "date"; readonly v: number } | { readonly t: "string"; readonly v: string };

export function encValue(v: IndexValue): Uint8Array {
  switch (v.t) {
    case "null":
      return Buffer.from([TAG.null]);
    case "bool":
      return Buffer.from([v.v ? TAG.true : TAG.false]);
    case "number":
      return concat(new Uint8Array([TAG.number]), encNumber(v.v));
    case "date":
      return concat(new Uint8Array([TAG.date]), encNumber(v.v));
    case "string":
      return concat(new Uint8Array([TAG.string]), encString(v.v));
  }
}

/** encValue(v).length, without encoding. */
export function encValueSize(v: IndexValue): number {
  switch (v.t) {
    case "null":
    case "bool":
      return 1;
    case "number":
    case "date":
      return 9;
    case "string": {
      let zeros = 0;
      for (let i = v.v.indexOf("\0"); i !== -1; i = v.v.indexOf("\0", i + 1)) zeros++;
      return 1 + Buffer.byteLength(v.v, "utf8") + zeros + 2;
    }
  }
}

/** Writes encValue(v) into `out` at `offset` (room checked by the caller); returns the offset after it. */
export function writeValue(out: Buffer, offset: number, v: IndexValue): number {
  switch (v.t) {
    case "null":
      out[offset] = TAG.null;
      return offset + 1;
    case "bool":
      out[offset] = v.v ? TAG.true : TAG.false;
      return offset + 1;
    case "number":
    case "date":
      out[offset] = v.t === "number" ? TAG.number : TAG.date;
      writeNumber(out, offset + 1, v.v);
      return offset + 9;
    case "string": {
      out[offset] = TAG.string;
      let o = offset + 1;
      if (v.v.indexOf("\0") === -1) {
        o += out.write(v.v, o, "utf8");
      } else {
        const e = encString(v.v);
        out.set(e.subarray(0, e.length - 2), o);
        o += e.length - 2;
      }
      out[o] = 0;
      out[o + 1] = 1;
      return o + 2;
    }
  }
}

/** Decodes an encValue at `offset`. */
export function decValue(b: Uint8Array, offset: number): { value: IndexValue; next: number } {
  const tag = b[offset]!;
  switch (tag) {
    case TAG.null:
      return { value: { t: "null" }, next: offset + 1 };
    case TAG.false:
    case TAG.true:
      return { value: { t: "bool", v: tag === TAG.true }, next: offset + 1 };
    case TAG.number:
      return { value: { t: "number", v: decNumber(b, offset + 1) }, next: offset + 9 };
    case TAG.date:
      return { value: { t: "date", v: decNumber(b, offset + 1) }, next: offset + 9 };
    case TAG.string: {
      const s = decString(b, offset + 1);
      return { value: { t: "string", v: s.value }, next: s.next };
    }
    default:
      throw new Error(`unknown index value tag 0x${tag.toString(16)}`);
  }
}

/** The JSON value an IndexValue stands for (dates as ISO text). */
export function indexValueToJson(v: IndexValue): JsonValue {
  switch (v.t) {
    case "null":
      return null;
    case "date":
      return new Date(v.v).toISOString();
    default:
      return v.v;
  }
}

/** Concatenates into a Buffer (LevelDB's "buffer" encoding takes Buffers without copying). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The smallest key greater than every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      return out.subarray(0, i + 1);
    }
  }
  return Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
