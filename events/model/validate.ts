import { randomUUID } from "node:crypto";
import { RemError } from "../../src/errors.js";
import { EVENT_TYPES, Event, isEventType } from "./events.js";
import { isCanonicalEvent } from "./canonical-event.js";
import { canonicalJsonObject } from "./json-value.js";

/**
 * Checks an event in its in-memory form and returns its canonical copy
 * (object members sorted, -0 folded to 0). Throws REM_ERR_EVENT_INVALID with
 * the failing field's path, e.g. `events[3].entity_id`.
 */
export function validateEvent(input: unknown, path = "event"): Event {
  const type = (input as { type?: unknown } | null)?.type;
  if (input !== null && typeof input === "object" && !isEventType(type)) {
    throw new RemError(
      "REM_ERR_EVENT_INVALID",
      `${path}.type: unknown event type ${JSON.stringify(type)}; expected one of ${Object.keys(EVENT_TYPES).join(", ")}`,
      { path: `${path}.type` },
    );
  }
  const parsed = Event.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? [path, ...issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))].join("").replace(/\.\[/g, "[") : path;
    throw new RemError("REM_ERR_EVENT_INVALID", `${where}: ${issue?.message ?? "invalid event"}`, { path: where });
  }
  const e = parsed.data;
  const current = EVENT_TYPES[e.type].v;
  if (e.v !== current) {
    throw new RemError("REM_ERR_EVENT_INVALID", `${path}.v: ${e.type} is at version ${current}, got ${e.v}`, { path: `${path}.v` });
  }
  switch (e.type) {
    case "entity.upserted":
      return { ...e, data: canonicalJsonObject(e.data, `${path}.data`) };
    case "edge.added":
      return { ...e, props: canonicalJsonObject(e.props, `${path}.props`) };
    case "schema.registered":
    case "schema.changed":
      return { ...e, definition: canonicalJsonObject(e.definition, `${path}.definition`) };
    case "embedding.recorded": {
      // -0 is folded to 0 (as in JSON values) so a vector has one canonical encoding.
      if (!e.vector.some((x) => Object.is(x, -0))) return e;
      return { ...e, vector: e.vector.map((x) => (Object.is(x, -0) ? 0 : x)) };
    }
    default:
      return e;
  }
}

/**
 * Validates the events of one commit for encoding, naming a failure as
 * `events[i].field`. An event that is already valid and canonical (the usual
 * case) is returned as it is, not copied: encode the result before the caller
 * can change its objects (TenantLog.append does, synchronously).
 */
export function validateForEncoding(events: readonly unknown[]): Event[] {
  const out: Event[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    out[i] = isCanonicalEvent(e) ? e : validateEvent(e, `events[${i}]`);
  }
  return out;
}

/**
 * Reads an event from its JSON form (CLI and HTTP input): `v` and `id` may be
 * omitted (current version, random UUID), `vector` is an array of numbers,
 * `public_key` is base64, `props` defaults to {}.
 */
export function eventFromJson(input: unknown, path = "event"): Event {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new RemError("REM_ERR_EVENT_INVALID", `${path}: expected a JSON object`, { path });
  }
  const obj: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  if (isEventType(obj.type)) obj.v ??= EVENT_TYPES[obj.type].v;
  obj.id ??= randomUUID();
  if (obj.type === "edge.added") obj.props ??= {};
  if (obj.type === "key.rotated") obj.previous_key_id ??= null;
  if (obj.vector !== undefined) {
    if (!Array.isArray(obj.vector) || !obj.vector.every((x) => typeof x === "number")) {
      throw new RemError("REM_ERR_EVENT_INVALID", `${path}.vector: expected an array of numbers`, { path: `${path}.vector` });
    }
    obj.vector = Float32Array.from(obj.vector as number[]);
  }
  if (obj.public_key !== undefined) {
    if (typeof obj.public_key !== "string") {
      throw new RemError("REM_ERR_EVENT_INVALID", `${path}.public_key: expected base64 text`, { path: `${path}.public_key` });
    }
    obj.public_key = new Uint8Array(Buffer.from(obj.public_key, "base64"));
  }
  return validateEvent(obj, path);
}

/** The JSON form of an event (inverse of eventFromJson). */
export function eventToJson(e: Event): Record<string, unknown> {
  switch (e.type) {
    case "embedding.recorded":
      return { ...e, vector: Array.from(e.vector) };
    case "key.rotated": {
      const { public_key, ...rest } = e;
      return public_key === undefined ? rest : { ...rest, public_key: Buffer.from(public_key).toString("base64") };
    }
    default:
      return e;
  }
}
