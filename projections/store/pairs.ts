import { strHeaderSize, utf8Length, writeStrHeader } from "./msgpack-str.js";

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

/** Writes `s` (`len`: its UTF-8 length) as a MessagePack str. */
function writeStr(out: Buffer, o: number, s: string, len: number): number {
  o = writeStrHeader(out, o, len);
  if (len === s.length && len <= 64) {
    for (let i = 0; i < len; i++) out[o + i] = s.charCodeAt(i); // ASCII
    return o + len;
  }
  return o + out.write(s, o, len, "utf8");
}
