import { RemError } from "../../src/errors.js";

/** A JSON value as stored in events: finite numbers only, no undefined, plain objects. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

const MAX_DEPTH = 64;

/**
 * Returns a canonical copy of a JSON object, every value checked to be
 * representable in JSON. Canonical member order (docs/event-format.md §4.2):
 * keys that are array indices ("0".."4294967294" in canonical decimal) first,
 * in numeric order, then the other keys in UTF-16 code unit order. (This is the
 * order JavaScript enumerates an object whose other keys were inserted sorted.)
 * Canonical form makes the encoded bytes of an event a function of its content.
 *
 * Throws REM_ERR_EVENT_INVALID naming the offending path.
 */
export function canonicalJsonObject(value: unknown, path: string): JsonObject {
  if (!isPlainObject(value)) {
    throw invalid(path, `expected an object, got ${describe(value)}`);
  }
  return canonicalObject(value, path, 0);
}

function canonicalValue(value: unknown, path: string, depth: number): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
      return value;
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw invalid(path, `expected a finite number, got ${value}`);
      // -0 is not distinguishable in JSON; store it as 0 so bytes stay canonical.
      return Object.is(value, -0) ? 0 : value;
    case "object":
      if (depth >= MAX_DEPTH) throw invalid(path, `nesting deeper than ${MAX_DEPTH} levels`);
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = canonicalValue(value[i], `${path}[${i}]`, depth + 1);
        return out;
      }
      if (isPlainObject(value)) return canonicalObject(value, path, depth + 1);
      throw invalid(path, `expected a JSON value, got ${describe(value)}`);
    default:
      throw invalid(path, `expected a JSON value, got ${describe(value)}`);
  }
}

function canonicalObject(value: Record<string, unknown>, path: string, depth: number): JsonObject {
  const keys = Object.keys(value).sort();
  const out: JsonObject = {};
  for (const key of keys) {
    // Assigning "__proto__" would change the prototype instead of adding a key.
    if (key === "__proto__") throw invalid(`${path}.__proto__`, `the key "__proto__" is not allowed`);
    const v = value[key];
    if (v === undefined) continue; // JSON.stringify drops undefined members too
    out[key] = canonicalValue(v, `${path}.${key}`, depth);
  }
  return out;
}

/**
 * Whether `value` is already what canonicalJsonObject would return for it: an
 * ordinary object whose members are in canonical order, holding only JSON
 * values (no -0, no undefined members, no `__proto__` key, dense ordinary
 * arrays, within the depth limit). Then it can be encoded as it is, without
 * the copy. `false` only means "not proven": canonicalJsonObject decides.
 */
export function isCanonicalJsonObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && isCanonicalObject(value as Record<string, unknown>, 0);
}

// Mirrors canonicalValue/canonicalObject, depth accounting included, but copies nothing.
function isCanonicalValue(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      // -0 is folded by the copy (1 / -0 is -Infinity).
      return Number.isFinite(value) && (value !== 0 || 1 / value > 0);
    case "object": {
      if (value === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Object.getPrototypeOf(value) === Array.prototype) {
        const a = value as unknown[];
        // A hole reads as undefined, which is not a JSON value: the copy would throw.
        for (let i = 0; i < a.length; i++) if (!isCanonicalValue(a[i], depth + 1)) return false;
        return true;
      }
      return isCanonicalObject(value as Record<string, unknown>, depth + 1);
    }
    default:
      return false;
  }
}

function isCanonicalObject(value: Record<string, unknown>, depth: number): boolean {
  // Only ordinary objects: the copy turns null-prototype objects into ordinary ones.
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // JS lists array-index keys first, in numeric order; the others must be sorted as inserted.
    if (i > 0 && !(keys[i - 1]! < key) && !isArrayIndex(keys[i - 1]!)) return false;
    if (key === "__proto__") return false;
    if (!isCanonicalValue(value[key], depth)) return false;
  }
  return true;
}

/** "0".."4294967294" in canonical decimal: the keys JavaScript enumerates first (docs/event-format.md §4.2). */
function isArrayIndex(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const c0 = key.charCodeAt(0);
  if (c0 === 48) return n === 1; // "0", never "01"
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(key) <= 4294967294;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "binary data";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}

function invalid(path: string, message: string): RemError {
  return new RemError("REM_ERR_EVENT_INVALID", `${path}: ${message}`, { path });
}
