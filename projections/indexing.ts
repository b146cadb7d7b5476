import type { JsonValue } from "../events/model/json-value.js";
import type { FieldKind } from "../schema/definition.js";
import type { IndexValue } from "./store/keys.js";

/**
 * How a field's JSON value becomes comparable values — the same mapping for
 * the index and for evaluating predicates on a scan, so both give the same
 * answer. Date fields (`format: date-time` or `date`) compare as instants;
 * arrays contribute each element; a missing field or null is NULL.
 */
export function indexValues(kind: FieldKind, items: FieldKind | null, value: JsonValue | undefined): IndexValue[] {
  if (value === undefined || value === null) return [{ t: "null" }];
  if (Array.isArray(value)) {
    const out: IndexValue[] = [];
    for (const item of value) {
      if (item === null || Array.isArray(item) || typeof item === "object") continue;
      out.push(scalar(items ?? "any", item));
    }
    return out;
  }
  if (typeof value === "object") return [];
  return [scalar(kind, value)];
}

/** One scalar as an IndexValue, following the field's declared kind. */
export function scalar(kind: FieldKind, value: string | number | boolean): IndexValue {
  if (typeof value === "boolean") return { t: "bool", v: value };
  if (typeof value === "number") return kind === "date" ? { t: "date", v: value } : { t: "number", v: value };
  if (kind === "date") {
    const ms = parseInstant(value);
    if (ms !== null) return { t: "date", v: ms };
  }
  return { t: "string", v: value };
}

/** ISO 8601 date or date-time → epoch ms; a date alone is midnight UTC. */
export function parseInstant(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}([Tt ][0-9:.]+([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(text)) return null;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? null : ms;
}

const TYPE_ORDER: Record<IndexValue["t"], number> = { bool: 1, number: 2, date: 3, string: 4, null: 9 };

/**
 * Total order over IndexValues, equal to the bytewise order of their encodings:
 * by type (booleans, numbers, dates, strings, NULL last), then by value; strings
 * by Unicode code point (= UTF-8 byte order), not UTF-16 code units.
 */
export function compareIndexValues(a: IndexValue, b: IndexValue): number {
  if (a.t !== b.t) return TYPE_ORDER[a.t] - TYPE_ORDER[b.t];
  switch (a.t) {
    case "null":
      return 0;
    case "bool":
      return Number(a.v) - Number((b as typeof a).v);
    case "number":
    case "date": {
      const x = a.v;
      const y = (b as typeof a).v;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case "string":
      return compareCodePoints(a.v, (b as typeof a).v);
  }
}

/** String comparison in code point order (JavaScript's `<` compares UTF-16 code units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Map surrogates above the rest of the BMP so UTF-16 order becomes code point order.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}
