/**
 * MessagePack of a pair list ([[a, b], …] of strings: key index and adjacency
 * lists), written by hand: msgpackr's generic pack was ~1 µs per list, and a
 * rebuild writes one list per entity. The bytes are plain MessagePack (arrays
 * and str formats), so `unpack` from records.ts reads them as before.
 */
export function packPairs(pairs: readonly (readonly [string, string])[]): Buffer {
  if (lens.length < 2 * pairs.length) lens = new Int32Array(2 * pairs.length);
  let size = arrayHeaderSize(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [a, b] = pairs[i]!;
    const la = (lens[2 * i] = utf8Length(a));
    const lb = (lens[2 * i + 1] = utf8Length(b));
    size += 1 + strHeaderSize(la) + la + strHeaderSize(lb) + lb;
  }
  const out = Buffer.allocUnsafe(size);
  let o = writeArrayHeader(out, 0, pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [a, b] = pairs[i]!;
    out[o++] = 0x92; // fixarray of 2
    o = writeStr(out, o, a, lens[2 * i]!);
    o = writeStr(out, o, b, lens[2 * i + 1]!);
  }
  return out;
}

/** UTF-8 lengths of the strings of the list being packed (reused: no allocation per list). */
let lens = new Int32Array(64);

/**
 * A string's UTF-8 length. Ids and schema names are short ASCII: a loop
 * answers for them without a native call. Length equals s.length only when
 * every unit is ASCII (any other takes 2–3 bytes).
 */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, "utf8");
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, "utf8");
  return n;
}

function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

function writeArrayHeader(out: Buffer, o: number, n: number): number {
  if (n < 16) {
    out[o] = 0x90 | n;
    return o + 1;
  }
  if (n < 0x10000) {
    out[o] = 0xdc;
    out.writeUInt16BE(n, o + 1);
    return o + 3;
  }
  out[o] = 0xdd;
  out.writeUInt32BE(n, o + 1);
  return o + 5;
}

function strHeaderSize(len: number): number {
  return len < 32 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
}

/** Writes `s` (`len`: its UTF-8 length) as a MessagePack str. */
function writeStr(out: Buffer, o: number, s: string, len: number): number {
  if (len < 32) out[o++] = 0xa0 | len;
  else if (len < 0x100) {
    out[o++] = 0xd9;
    out[o++] = len;
  } else if (len < 0x10000) {
    out[o++] = 0xda;
    out.writeUInt16BE(len, o);
    o += 2;
  } else {
    out[o++] = 0xdb;
    out.writeUInt32BE(len, o);
    o += 4;
  }
  if (len === s.length && len <= 64) {
    for (let i = 0; i < len; i++) out[o + i] = s.charCodeAt(i); // ASCII
    return o + len;
  }
  return o + out.write(s, o, len, "utf8");
}
