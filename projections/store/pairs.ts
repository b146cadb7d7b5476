/**
 * MessagePack of a pair list ([[a, b], …] of strings: key index and adjacency
 * lists), written by hand: msgpackr's generic pack was ~1 µs per list, and a
 * rebuild writes one list per entity. The bytes are plain MessagePack (arrays
 * and str formats), so `unpack` from records.ts reads them as before.
 */
export function packPairs(pairs: readonly (readonly [string, string])[]): Buffer {
  let size = arrayHeaderSize(pairs.length);
  for (const [a, b] of pairs) size += 1 + strSize(a) + strSize(b);
  const out = Buffer.allocUnsafe(size);
  let o = writeArrayHeader(out, 0, pairs.length);
  for (const [a, b] of pairs) {
    out[o++] = 0x92; // fixarray of 2
    o = writeStr(out, o, a);
    o = writeStr(out, o, b);
  }
  return out;
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

function strSize(s: string): number {
  const len = Buffer.byteLength(s, "utf8");
  return strHeaderSize(len) + len;
}

function writeStr(out: Buffer, o: number, s: string): number {
  const len = Buffer.byteLength(s, "utf8");
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
  return o + out.write(s, o, len, "utf8");
}
