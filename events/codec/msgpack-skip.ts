/**
 * Skipping over one MessagePack value without decoding it: the event codec
 * finds each event's `data` with it (data-spans.ts), the Parquet export's
 * record reader steps over what it does not need (MsgReader.skip).
 */

/**
 * The offset just past the value starting at `p`, or -1 when it runs past the
 * end or uses the reserved byte 0xc1. Iterative: `pending` counts the values
 * still to skip, containers add their elements to it.
 */
export function skip(b: Uint8Array, p: number): number {
  const n = b.length;
  let pending = 1;
  while (pending > 0) {
    if (p >= n) return -1;
    pending--;
    const t = b[p]!;
    if (t <= 0x7f || t >= 0xe0) p += 1;
    else if (t <= 0x8f) {
      pending += 2 * (t & 0x0f);
      p += 1;
    } else if (t <= 0x9f) {
      pending += t & 0x0f;
      p += 1;
    } else if (t <= 0xbf) p += 1 + (t & 0x1f);
    else {
      switch (t) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          p += 1;
          break;
        case 0xc4:
        case 0xd9:
          if (p + 2 > n) return -1;
          p += 2 + b[p + 1]!;
          break;
        case 0xc5:
        case 0xda:
          if (p + 3 > n) return -1;
          p += 3 + u16(b, p + 1);
          break;
        case 0xc6:
        case 0xdb:
          if (p + 5 > n) return -1;
          p += 5 + u32(b, p + 1);
          break;
        case 0xc7:
          if (p + 2 > n) return -1;
          p += 3 + b[p + 1]!;
          break;
        case 0xc8:
          if (p + 3 > n) return -1;
          p += 4 + u16(b, p + 1);
          break;
        case 0xc9:
          if (p + 5 > n) return -1;
          p += 6 + u32(b, p + 1);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          p += 5;
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          p += 9;
          break;
        case 0xcc:
        case 0xd0:
          p += 2;
          break;
        case 0xcd:
        case 0xd1:
          p += 3;
          break;
        case 0xd4:
          p += 3;
          break;
        case 0xd5:
          p += 4;
          break;
        case 0xd6:
          p += 6;
          break;
        case 0xd7:
          p += 10;
          break;
        case 0xd8:
          p += 18;
          break;
        case 0xdc:
          if (p + 3 > n) return -1;
          pending += u16(b, p + 1);
          p += 3;
          break;
        case 0xdd:
          if (p + 5 > n) return -1;
          pending += u32(b, p + 1);
          p += 5;
          break;
        case 0xde:
          if (p + 3 > n) return -1;
          pending += 2 * u16(b, p + 1);
          p += 3;
          break;
        case 0xdf:
          if (p + 5 > n) return -1;
          pending += 2 * u32(b, p + 1);
          p += 5;
          break;
        default:
          return -1; // 0xc1: never used
      }
    }
  }
  return p <= n ? p : -1;
}

/** Big-endian uint16 at `p`. */
export function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Big-endian uint32 at `p`. */
export function u32(b: Uint8Array, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}
