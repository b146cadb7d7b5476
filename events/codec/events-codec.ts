import { endianness } from "node:os";
import { Packr, RESET_BUFFER_MODE } from "msgpackr";
import { RemError } from "../../src/errors.js";
import { dataSpans } from "./data-spans.js";
import { EVENT_TYPES, isEventType, type Event } from "../model/events.js";
import { upcast } from "../model/upcast.js";
import { validateEvent } from "../model/validate.js";

/**
 * The payload of a commit: a MessagePack array of events, each a map whose keys
 * come in canonical order (`type`, `v`, `id`, then the kind's fields as listed
 * in EVENT_TYPES), user objects with sorted keys, binary fields as `bin`.
 * See docs/event-format.md §4.
 */

// useRecords:false keeps the output plain MessagePack (no msgpackr extensions);
// variableMapSize:true picks the smallest map header, as the spec requires.
const packr = new Packr({ useRecords: false, variableMapSize: true, mapsAsObjects: true, moreTypes: false });

if (endianness() !== "LE") {
  // Vectors are stored as little-endian float32; a big-endian port would need byte swaps here.
  throw new Error("REM requires a little-endian platform");
}

function wireForm(e: Event): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.type, v: e.v, id: e.id };
  const fields = EVENT_TYPES[e.type].fields as readonly string[];
  for (const f of fields) {
    const value = (e as Record<string, unknown>)[f];
    if (value === undefined) continue;
    out[f] = value instanceof Float32Array ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : value;
  }
  return out;
}

/**
 * Encodes validated, canonical events (see validateEvent) as a commit payload,
 * in msgpackr's reuse mode: the result is a view that the next msgpackr `pack`
 * in this process (any Packr: they share one buffer) overwrites. For
 * TenantLog.append, which copies it into the commit before it awaits. Left to
 * itself msgpackr moves on through its buffer and allocates a new one of 4x the
 * output whenever it fills (every few ~60 KB commits); that off-heap churn
 * triggered full GCs of the whole heap. Reuse mode only rewinds to where this
 * call started, so views handed out earlier, by anyone, stay intact.
 */
export function encodeEventsTransient(events: readonly Event[]): Uint8Array {
  return packr.pack(events.map(wireForm), RESET_BUFFER_MODE);
}

/** Encodes validated, canonical events (see validateEvent) as a commit payload. */
export function encodeEvents(events: readonly Event[]): Uint8Array {
  return new Uint8Array(encodeEventsTransient(events));
}

export interface DecodeContext {
  tenant?: string;
  seq?: number;
  /** Re-run the full model validation (used by `rem verify`; the hot path trusts signed content). */
  validate?: boolean;
}

/** Decodes a commit payload back into events, upcasting old versions. */
export function decodeEvents(payload: Uint8Array, ctx: DecodeContext = {}): Event[] {
  return decodeWire(payload, ctx).events;
}

/** A commit's events, each upsert with the bytes of its `data` as the log holds them. */
export interface EventsWithData {
  readonly events: Event[];
  /**
   * `data[i]`: a view into the payload holding the MessagePack of
   * `events[i].data` (an `entity.upserted` not upcast), else undefined. Valid
   * while the payload is: consume it before the next commit is read.
   */
  readonly data: readonly (Uint8Array | undefined)[];
}

/** As decodeEvents, also finding each upsert's encoded `data` (see data-spans.ts). */
export function decodeEventsWithData(payload: Uint8Array, ctx: DecodeContext = {}): EventsWithData {
  const { events, wire } = decodeWire(payload, ctx);
  // Only upserts use the spans: a commit without one is not scanned.
  const spans = events.some((e) => e.type === "entity.upserted") ? dataSpans(payload) : null;
  const data: (Uint8Array | undefined)[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const span = spans?.[i];
    // An upcast event is a new object: its data need not be what the log holds.
    data[i] = span !== undefined && e === wire[i] && e.type === "entity.upserted" ? payload.subarray(span[0], span[1]) : undefined;
  }
  return { events, data };
}

function decodeWire(payload: Uint8Array, ctx: DecodeContext): { events: Event[]; wire: unknown[] } {
  let raw: unknown;
  try {
    raw = packr.unpack(payload);
  } catch (err) {
    throw new RemError("REM_ERR_DECODE", `commit ${ctx.seq ?? "?"}: payload is not valid MessagePack`, { tenant: ctx.tenant, seq: ctx.seq }, { cause: err });
  }
  if (!Array.isArray(raw)) {
    throw new RemError("REM_ERR_DECODE", `commit ${ctx.seq ?? "?"}: payload must be an array of events`, { tenant: ctx.tenant, seq: ctx.seq });
  }
  const out: Event[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    out[i] = fromWire(raw[i], i, ctx);
  }
  return { events: out, wire: raw };
}

function fromWire(item: unknown, index: number, ctx: DecodeContext): Event {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw new RemError("REM_ERR_DECODE", `commit ${ctx.seq ?? "?"} event ${index}: not a map`, { tenant: ctx.tenant, seq: ctx.seq, path: `events[${index}]` });
  }
  const obj = item as Record<string, unknown>;
  if (!isEventType(obj.type)) {
    throw new RemError(
      "REM_ERR_UNSUPPORTED_VERSION",
      `commit ${ctx.seq ?? "?"} event ${index}: unknown event type ${JSON.stringify(obj.type)}; this log was written by a newer REM`,
      { tenant: ctx.tenant, seq: ctx.seq, path: `events[${index}].type` },
    );
  }
  const vec = obj.vector;
  if (vec instanceof Uint8Array) {
    if (vec.byteLength % 4 !== 0) {
      throw new RemError("REM_ERR_DECODE", `commit ${ctx.seq ?? "?"} event ${index}: vector bytes not a multiple of 4`, { tenant: ctx.tenant, seq: ctx.seq, path: `events[${index}].vector` });
    }
    const f = new Float32Array(vec.byteLength / 4);
    new Uint8Array(f.buffer).set(vec);
    obj.vector = f;
  }
  if (obj.public_key instanceof Uint8Array && obj.public_key.constructor !== Uint8Array) {
    obj.public_key = new Uint8Array(obj.public_key);
  }
  const event = upcast(obj, { tenant: ctx.tenant, seq: ctx.seq, index });
  if (ctx.validate) {
    try {
      return validateEvent(event, `events[${index}]`);
    } catch (err) {
      const re = err as RemError;
      throw new RemError("REM_ERR_DECODE", `commit ${ctx.seq ?? "?"}: ${re.message}`, { tenant: ctx.tenant, seq: ctx.seq, path: re.details?.path }, { cause: err });
    }
  }
  return event;
}
