/**
 * Where each event's `data` value lies in a commit payload, found by skipping
 * over the MessagePack without decoding it. The projection stores an entity's
 * `data` as the very bytes the log holds (docs/data-model.md): copying them
 * costs a fraction of re-encoding the decoded object, the largest part of
 * applying an upsert.
 */

/** `start` and `end` offsets of one event's `data` value; absent when the event has none. */
export type DataSpans = readonly (readonly [number, number] | undefined)[];

/**
 * The byte span of each top-level event's `data` value in `payload` (an array
 * of maps, docs/event-format.md §4), or null when the payload does not have
 * that shape or is malformed. Only a payload that decoded cleanly should be
 * given: the answer is then exact, and null never happens.
 */
export function dataSpans(payload: Uint8Array): DataSpans | null {
  const top = containerHeader(payload, 0);
  if (top === null || top.kind !== ARRAY) return null;
  const out: ([number, number] | undefined)[] = new Array(top.count);
  let p = top.end;
  for (let i = 0; i < top.count; i++) {
    const map = containerHeader(payload, p);
    if (map === null || map.kind !== MAP) return null;
    p = map.end;
    let span: [number, number] | undefined;
    for (let k = 0; k < map.count; k++) {
      const isData = isDataKey(payload, p);
      p = skip(payload, p);
      if (p < 0) return null;
      const end = skip(payload, p);
      if (end < 0) return null;
      if (isData) span = [p, end]; // a repeated key: the decoder keeps the last value, so do we
      p = end;
    }
    out[i] = span;
  }
  return p === payload.length ? out : null;
}

const ARRAY = 0;
const MAP = 1;

function containerHeader(b: Uint8Array, p: number): { kind: number; count: number; end: number } | null {
  if (p >= b.length) return null;
  const t = b[p]!;
  if (t >= 0x90 && t <= 0x9f) return { kind: ARRAY, count: t & 0x0f, end: p + 1 };
  if (t >= 0x80 && t <= 0x8f) return { kind: MAP, count: t & 0x0f, end: p + 1 };
  if (t === 0xdc || t === 0xde) return p + 3 <= b.length ? { kind: t === 0xdc ? ARRAY : MAP, count: u16(b, p + 1), end: p + 3 } : null;
  if (t === 0xdd || t === 0xdf) return p + 5 <= b.length ? { kind: t === 0xdd ? ARRAY : MAP, count: u32(b, p + 1), end: p + 5 } : null;
  return null;
}

/** Whether the value at `p` is the string "data" (in any str format). */
function isDataKey(b: Uint8Array, p: number): boolean {
  let at: number;
  const t = b[p];
  if (t === 0xa4) at = p + 1;
  else if (t === 0xd9 && b[p + 1] === 4) at = p + 2;
  else if (t === 0xda && b[p + 1] === 0 && b[p + 2] === 4) at = p + 3;
  else if (t === 0xdb && b[p + 1] === 0 && b[p + 2] === 0 && b[p + 3] === 0 && b[p + 4] === 4) at = p + 5;
  else return false;
  return b[at] === 0x64 && b[at + 1] === 0x61 && b[at + 2] === 0x74 && b[at + 3] === 0x61;
}

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

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function u32(b: Uint8Array, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}
