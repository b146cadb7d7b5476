import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeEvents } from "../../events/codec/events-codec.js";
import { FAST_CHECKED_KINDS, isCanonicalEvent } from "../../events/model/canonical-event.js";
import type { Event } from "../../events/model/events.js";
import { canonicalJsonObject, isCanonicalJsonObject } from "../../events/model/json-value.js";
import { validateEvent, validateForEncoding } from "../../events/model/validate.js";
import { RemError } from "../../src/errors.js";
import { event, jsonObject } from "../support/arbitraries.js";
import { entityEvent } from "../support/fixtures.js";

/**
 * The append path's fast check (isCanonicalEvent, isCanonicalJsonObject) must
 * only accept what validateEvent accepts, and the accepted event must encode to
 * the same bytes as validateEvent's canonical copy. Inputs: valid events, their
 * canonical copies, and mutations that make them non-canonical or invalid.
 */

type Obj = Record<string, unknown>;

/** Same content, members in reverse insertion order (non-canonical unless ≤ 1 non-index key). */
function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof Float32Array)) {
    const out: Obj = {};
    for (const k of Object.keys(v).reverse()) out[k] = reorder((v as Obj)[k]);
    return out;
  }
  return v;
}

/** The user object of an event, if its kind has one. */
function userObjectKey(e: Obj): string | undefined {
  return ["data", "props", "definition"].find((k) => k in e);
}

const odd: fc.Arbitrary<unknown> = fc.constantFrom(
  -0,
  undefined,
  NaN,
  Infinity,
  new Date(0),
  new Uint8Array(2),
  Object.create(null) as Obj,
  JSON.parse('{"__proto__": 1}') as Obj,
  [1, , 3], // eslint-disable-line no-sparse-arrays
  "not-a-uuid",
  "0B1A3C4D-0000-4000-8000-00000000000A", // a UUID, but not lowercase
  "0b1a3c4d-0000-4000-8000-00000000000g",
  "a".repeat(65), // one character over a schema name's limit
  "Bad Name",
  "",
  2,
  1.5,
  null,
  {},
  [],
);

/** A field path to change: a top-level field, or a member somewhere in the user object. */
function mutate(e: Event, how: number, value: unknown, key: string): unknown {
  const copy = structuredClone(e) as Obj;
  switch (how % 7) {
    case 0:
      return reorder(copy);
    case 1: {
      // Replace a top-level field (type excluded: unknown types are a separate check).
      const fields = Object.keys(copy).filter((k) => k !== "type");
      copy[fields[key.length % fields.length]!] = value;
      return copy;
    }
    case 2: {
      const u = userObjectKey(copy);
      if (u !== undefined) (copy[u] as Obj)[key] = value; // a new member, likely out of order
      return copy;
    }
    case 3: {
      const u = userObjectKey(copy);
      if (u !== undefined) copy[u] = { nested: { deeper: [value] } };
      return copy;
    }
    case 4:
      copy[`extra_${key}`] = value; // members outside the schema: zod strips them
      return copy;
    case 5: {
      const u = userObjectKey(copy);
      if (u !== undefined) copy[u] = Object.assign(Object.create(null) as Obj, copy[u] as Obj);
      return copy;
    }
    default: {
      let deep: unknown = value;
      for (let i = 0; i < 70; i++) deep = { d: deep };
      const u = userObjectKey(copy);
      if (u !== undefined) copy[u] = deep;
      return copy;
    }
  }
}

const candidate: fc.Arbitrary<unknown> = fc.oneof(
  event,
  event.map((e) => validateEvent(e)),
  { arbitrary: fc.tuple(event, fc.nat(), odd, fc.string({ maxLength: 6 })).map(([e, how, value, key]) => mutate(e, how, value, key)), weight: 4 },
  fc.tuple(jsonObject, fc.constantFrom(0, -0, 1)).map(([data, n]) => ({ ...entityEvent(0), data: { ...data, n } })),
);

function outcome(f: () => Uint8Array): { bytes: string } | { code: string; path: unknown; message: string } {
  try {
    return { bytes: Buffer.from(f()).toString("hex") };
  } catch (err) {
    if (!(err instanceof RemError)) throw err;
    return { code: err.code, path: err.details.path, message: err.message };
  }
}

describe("fast validation for the append path", () => {
  it("compiles a check for every kind without refinements or binary fields", () => {
    expect([...FAST_CHECKED_KINDS].sort()).toEqual(
      ["edge.added", "edge.removed", "entity.deleted", "entity.upserted", "schema.changed", "schema.dropped", "schema.registered"].sort(),
    );
  });

  it("accepts only what validateEvent accepts, and encodes it to the same bytes", () => {
    fc.assert(
      fc.property(candidate, (input) => {
        if (!isCanonicalEvent(input)) return;
        const slow = validateEvent(input);
        expect(Buffer.from(encodeEvents([input])).equals(Buffer.from(encodeEvents([slow])))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("takes the fast path for canonical events of the fast kinds", () => {
    fc.assert(
      fc.property(event, (e) => {
        const canonical = validateEvent(e);
        expect(isCanonicalEvent(canonical)).toBe(FAST_CHECKED_KINDS.includes(canonical.type));
      }),
      { numRuns: 500 },
    );
  });

  it("validateForEncoding gives the bytes, or the error and path, of validateEvent", () => {
    fc.assert(
      fc.property(fc.array(candidate, { minLength: 1, maxLength: 5 }), (inputs) => {
        const slow = outcome(() => encodeEvents(inputs.map((e, i) => validateEvent(e, `events[${i}]`))));
        const fast = outcome(() => encodeEvents(validateForEncoding(inputs)));
        expect(fast).toEqual(slow);
      }),
      { numRuns: 1000 },
    );
  });

  it("names the failing field as before", () => {
    const good = entityEvent(1);
    const bad = [good, { ...good, entity_id: "nope" }];
    expect(() => validateForEncoding(bad)).toThrow(RemError);
    try {
      validateForEncoding(bad);
    } catch (err) {
      expect((err as RemError).code).toBe("REM_ERR_EVENT_INVALID");
      expect((err as RemError).details.path).toBe("events[1].entity_id");
    }
    try {
      validateForEncoding([{ ...good, data: { b: { c: [1, Infinity] }, a: 1 } }]);
    } catch (err) {
      expect((err as RemError).details.path).toBe("events[0].data.b.c[1]");
    }
  });
});

describe("isCanonicalJsonObject", () => {
  /** Keys in enumeration order, recursively: what the encoder sees. */
  const layout = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(layout) : v !== null && typeof v === "object" ? Object.entries(v).map(([k, x]) => [k, layout(x)]) : Object.is(v, -0) ? "-0" : v;

  it("recognises every canonical copy", () => {
    fc.assert(
      fc.property(jsonObject, (obj) => {
        expect(isCanonicalJsonObject(canonicalJsonObject(obj, "data"))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts only objects equal, in layout, to their canonical copy", () => {
    const input = fc.oneof(jsonObject, jsonObject.map(reorder), fc.tuple(jsonObject, odd, fc.string({ maxLength: 4 })).map(([o, v, k]) => ({ ...o, [k]: v })));
    fc.assert(
      fc.property(input, (obj) => {
        if (!isCanonicalJsonObject(obj)) return;
        expect(layout(canonicalJsonObject(obj, "data"))).toEqual(layout(obj));
      }),
      { numRuns: 2000 },
    );
  });

  it("handles array-index keys: numeric order first, then sorted", () => {
    expect(isCanonicalJsonObject({ 2: 1, 10: 1, a: 1, b: 1 })).toBe(true);
    expect(isCanonicalJsonObject({ b: 1, a: 1 })).toBe(false);
    // "01" and "4294967295" are not indices: they follow "1", in sorted order.
    expect(isCanonicalJsonObject({ "01": 1, "1": 1, "4294967295": 1 })).toBe(true);
    expect(isCanonicalJsonObject({ b: 1, "01": 1 })).toBe(false);
    expect(isCanonicalJsonObject({ "4294967295": 1, "01": 1 })).toBe(false);
    expect(isCanonicalJsonObject({ x: -0 })).toBe(false);
    expect(isCanonicalJsonObject({ x: undefined })).toBe(false);
  });
});
