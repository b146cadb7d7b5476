/** MessagePack str headers and lengths, for the hand-written encoders of pairs.ts and entity-bytes.ts. */

export function strHeaderSize(len: number): number {
  return len < 32 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
}

/** Writes the smallest str header for `len` UTF-8 bytes at `o`; returns the offset after it. */
export function writeStrHeader(out: Buffer, o: number, len: number): number {
  if (len < 32) {
    out[o] = 0xa0 | len;
    return o + 1;
  }
  if (len < 0x100) {
    out[o] = 0xd9;
    out[o + 1] = len;
    return o + 2;
  }
  if (len < 0x10000) {
    out[o] = 0xda;
    out.writeUInt16BE(len, o + 1);
    return o + 3;
  }
  out[o] = 0xdb;
  out.writeUInt32BE(len, o + 1);
  return o + 5;
}

/**
 * A string's UTF-8 length. Ids and schema names are short ASCII: a loop
 * answers for them without a native call. Length equals s.length only when
 * every unit is ASCII (any other takes 2–3 bytes).
 */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, "utf8");
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, "utf8");
  return n;
}
