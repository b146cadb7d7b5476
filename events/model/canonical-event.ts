import type { z } from "zod";
import { Event, EVENT_TYPES, isEventType, jsonObject, type EventType } from "./events.js";
import { isCanonicalJsonObject } from "./json-value.js";

/**
 * The append path's pre-check: is this event already exactly what validateEvent
 * would return (valid, user objects canonical), so that it can be encoded as it
 * is? validateEvent costs ~1.5 µs per event (zod's walk, then a canonical copy
 * of the user object); this check is a few field tests and one read-only walk.
 *
 * zod stays the definition: the per-kind checks below are compiled at load from
 * the zod schemas of events.ts (literals, strings with regex/length checks,
 * numbers with integer/bound checks, the `jsonObject` custom). A kind with any
 * other construct (refinements, optional fields, binary data: embedding.recorded,
 * key.rotated) gets no fast check. `false` only means "not proven": the caller
 * then runs validateEvent, which names the failing field.
 *
 * What a `true` does not give: a copy. Members outside the schema are left on
 * the object (zod would strip them; the encoder only writes the schema's fields).
 * test/events/canonical-event.test.ts checks: accepted ⇒ validateEvent accepts
 * and the encoded bytes are the same; and that every kind it should cover is
 * compiled (a zod upgrade that changes `_zod.def` disables the fast path, safely,
 * and fails that test).
 */
export function isCanonicalEvent(input: unknown): input is Event {
  if (input === null || typeof input !== "object") return false;
  const type = (input as { type?: unknown }).type;
  if (!isEventType(type)) return false;
  const check = CHECKS[type];
  return check !== null && check(input as Record<string, unknown>);
}

type Check = (value: unknown) => boolean;

/** The parts of zod's internal definitions the compiler reads (zod 4's `_zod.def`). */
interface DefLike {
  readonly type: string;
  readonly coerce?: boolean;
  readonly values?: readonly unknown[];
  readonly checks?: readonly { readonly _zod: { readonly def: CheckDefLike } }[];
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly catchall?: unknown;
}
interface CheckDefLike {
  readonly check: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly value?: number;
  readonly inclusive?: boolean;
}

function defOf(schema: z.ZodType): DefLike {
  return (schema as unknown as { _zod: { def: DefLike } })._zod.def;
}

/**
 * A field test equivalent to the schema's, or null when the schema uses something
 * not handled here. One closure per field, no composition: these run ~600 times
 * per 100-event commit.
 */
function compileField(schema: z.ZodType): Check | null {
  if (schema === jsonObject) return isCanonicalJsonObject;
  const def = defOf(schema);
  if (def.coerce === true) return null;
  switch (def.type) {
    case "literal": {
      const values = def.values ?? [];
      return (v) => values.includes(v);
    }
    case "string": {
      const patterns: RegExp[] = [];
      let min = 0;
      let max = Infinity;
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        if (d.check === "string_format" && d.format === "regex" && d.pattern !== undefined && !d.pattern.global && !d.pattern.sticky) patterns.push(d.pattern);
        else if (d.check === "min_length" && d.minimum !== undefined) min = Math.max(min, d.minimum);
        else if (d.check === "max_length" && d.maximum !== undefined) max = Math.min(max, d.maximum);
        else return null;
      }
      const [re, ...more] = patterns;
      if (re === undefined) return (v) => typeof v === "string" && v.length >= min && v.length <= max;
      if (more.length === 0) return (v) => typeof v === "string" && v.length >= min && v.length <= max && re.test(v);
      return (v) => typeof v === "string" && v.length >= min && v.length <= max && patterns.every((p) => p.test(v));
    }
    case "number": {
      let safeint = false;
      let lo = -Infinity;
      let hi = Infinity;
      let loInclusive = true;
      let hiInclusive = true;
      for (const c of def.checks ?? []) {
        const d = c._zod.def;
        const bound = d.value;
        const inclusive = d.inclusive === true;
        if (d.check === "number_format" && d.format === "safeint") safeint = true;
        else if (d.check === "greater_than" && bound !== undefined) {
          // Keep the tightest bound.
          if (bound > lo || (bound === lo && !inclusive)) [lo, loInclusive] = [bound, inclusive];
        } else if (d.check === "less_than" && bound !== undefined) {
          if (bound < hi || (bound === hi && !inclusive)) [hi, hiInclusive] = [bound, inclusive];
        } else return null;
      }
      return (v) =>
        typeof v === "number" &&
        Number.isFinite(v) &&
        (!safeint || Number.isSafeInteger(v)) &&
        (loInclusive ? v >= lo : v > lo) &&
        (hiInclusive ? v <= hi : v < hi);
    }
    default:
      return null;
  }
}

/** One kind's check: every field of its zod object, plus validateEvent's "current version only". */
function compileKind(type: EventType, schema: z.ZodType): ((e: Record<string, unknown>) => boolean) | null {
  const def = defOf(schema);
  // Object-level refinements or a non-stripping catchall are not mirrored here.
  if (def.type !== "object" || def.shape === undefined || (def.checks?.length ?? 0) > 0 || def.catchall !== undefined) return null;
  const names: string[] = [];
  const checks: Check[] = [];
  for (const [name, fieldSchema] of Object.entries(def.shape)) {
    const check = compileField(fieldSchema);
    if (check === null) return null;
    names.push(name);
    checks.push(check);
  }
  const current = EVENT_TYPES[type].v;
  return (e) => {
    if (e.v !== current) return false;
    for (let i = 0; i < names.length; i++) if (!checks[i]!(e[names[i]!])) return false;
    return true;
  };
}

const CHECKS = ((): Record<EventType, ((e: Record<string, unknown>) => boolean) | null> => {
  const out = {} as Record<EventType, ((e: Record<string, unknown>) => boolean) | null>;
  for (const type of Object.keys(EVENT_TYPES) as EventType[]) out[type] = null;
  for (const option of (Event as unknown as { options: readonly z.ZodType[] }).options) {
    const literal = defOf(defOf(option).shape?.type ?? option);
    const type = literal.type === "literal" ? literal.values?.[0] : undefined;
    if (isEventType(type)) out[type] = compileKind(type, option);
  }
  return out;
})();

/** The kinds that have a fast check (for tests and the bench report). */
export const FAST_CHECKED_KINDS: readonly EventType[] = (Object.keys(CHECKS) as EventType[]).filter((t) => CHECKS[t] !== null);
