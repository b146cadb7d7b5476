import { skip, u16, u32 } from "./msgpack-skip.js";

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
