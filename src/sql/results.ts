import {
  DuckDBArrayType,
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListType,
  DuckDBListValue,
  DuckDBMapType,
  DuckDBMapValue,
  DuckDBStructType,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBUUIDValue,
  type DuckDBType,
  type DuckDBValue,
} from "@duckdb/node-api";
import type { JsonObject, JsonValue } from "../../events/model/json-value.js";

/**
 * DuckDB results as JSON, the way REM prints entities: timestamps as ISO 8601
 * UTC text (as `rem query` prints created_at), integers as numbers (as text
 * beyond 2^53, where JSON numbers lose digits), UUIDs and dates as text, lists
 * and structs as arrays and objects, JSON columns parsed, blobs as base64.
 */

export interface SqlColumn {
  readonly name: string;
  /** DuckDB's name for the type, e.g. BIGINT, VARCHAR[], STRUCT("a" INTEGER). */
  readonly type: string;
}

export interface SqlRows {
  readonly columns: readonly SqlColumn[];
  readonly rows: JsonObject[];
  /** True when the result had more rows than the limit and was cut. */
  readonly truncated: boolean;
}

export function toJson(value: DuckDBValue, type: DuckDBType | undefined): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case "boolean":
      return value;
    case "string":
      if (type?.alias === "JSON") {
        try {
          return JSON.parse(value) as JsonValue;
        } catch {
          return value;
        }
      }
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) return isoMicros(value.micros);
  if (value instanceof DuckDBDateValue || value instanceof DuckDBUUIDValue) return value.toString();
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) {
    const child = type instanceof DuckDBListType || type instanceof DuckDBArrayType ? type.valueType : undefined;
    return value.items.map((v) => toJson(v, child));
  }
  if (value instanceof DuckDBStructValue) {
    const out: JsonObject = {};
    const st = type instanceof DuckDBStructType ? type : undefined;
    for (const [k, v] of Object.entries(value.entries)) {
      const i = st?.entryIndexes[k];
      out[k] = toJson(v, i === undefined ? undefined : st!.entryTypes[i]);
    }
    return out;
  }
  if (value instanceof DuckDBMapValue) {
    const mt = type instanceof DuckDBMapType ? type : undefined;
    if (value.entries.every((e) => typeof e.key === "string")) {
      const out: JsonObject = {};
      for (const e of value.entries) out[e.key as string] = toJson(e.value, mt?.valueType);
      return out;
    }
    return value.entries.map((e) => ({ key: toJson(e.key, mt?.keyType), value: toJson(e.value, mt?.valueType) }));
  }
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString("base64");
  return value.toString(); // intervals, times, bits, unions…: DuckDB's own text
}

/** µs since the epoch as ISO 8601 UTC: milliseconds like Date#toISOString, six digits when there are microseconds. */
export function isoMicros(micros: bigint): string {
  const ms = micros / 1000n;
  let rest = micros % 1000n;
  let whole = ms;
  if (rest < 0n) {
    rest += 1000n;
    whole -= 1n;
  }
  const n = Number(whole);
  if (!Number.isFinite(n) || Math.abs(n) > 8.64e15) return micros > 0n ? "infinity" : "-infinity";
  const iso = new Date(n).toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${rest.toString().padStart(3, "0")}Z`;
}

/** Rows as CSV (RFC 4180): a header, NULL as an empty field, nested values as JSON. */
export function toCsv(r: SqlRows): string {
  const field = (v: JsonValue | undefined): string => {
    if (v === null || v === undefined) return "";
    const s = typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [r.columns.map((c) => field(c.name)).join(",")];
  for (const row of r.rows) lines.push(r.columns.map((c) => field(row[c.name])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** Rows as an aligned text table for people (long cells cut at 60 characters). */
export function toTable(r: SqlRows): string {
  const cell = (v: JsonValue | undefined): string => {
    const s = v === null || v === undefined ? "NULL" : typeof v === "object" ? JSON.stringify(v) : String(v);
    const flat = s.replace(/\s+/g, " ");
    return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
  };
  const header = r.columns.map((c) => c.name);
  const body = r.rows.map((row) => r.columns.map((c) => cell(row[c.name])));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const rule = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const out = [rule, line(header), rule, ...body.map(line), rule];
  out.push(`${r.rows.length} row${r.rows.length === 1 ? "" : "s"}${r.truncated ? " (truncated)" : ""}`);
  return out.join("\n") + "\n";
}

export { SQL_FORMATS, type SqlFormat } from "./limits.js";
