import { createHash } from "node:crypto";
import { UUID_PATTERN } from "../../events/model/events.js";
import type { IndexValue } from "../../projections/store/keys.js";
import { invalidQuery } from "./errors.js";
import type { SortKey } from "./order.js";

/** Where a page ended: the last row's sort key and how many rows of the query's LIMIT were returned so far. */
export interface CursorPosition {
  readonly key: SortKey;
  readonly returned: number;
}

interface CursorBody {
  /** query hash */
  readonly q: string;
  /** ORDER BY values of the last row */
  readonly k: readonly IndexValue[];
  /** its id */
  readonly i: string;
  /** rows returned before the next page */
  readonly n: number;
}

/** A short hash of the query text: a cursor only continues the query it came from. */
export function queryHash(sql: string): string {
  return createHash("sha256").update(sql.trim()).digest("base64url").slice(0, 22);
}

/** An opaque cursor (base64url JSON). */
export function encodeCursor(hash: string, pos: CursorPosition): string {
  const body: CursorBody = { q: hash, k: pos.key.values, i: pos.key.id, n: pos.returned };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/**
 * Reads a cursor made by `encodeCursor` for the query with this hash and
 * `keyLength` ORDER BY columns. Anything else — garbage, a tampered shape, a
 * cursor of another query — is REM_ERR_QUERY_INVALID.
 */
export function decodeCursor(cursor: string, hash: string, keyLength: number): CursorPosition {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidQuery("the cursor is not valid: pass next_cursor from a previous page unchanged");
  }
  if (!isBody(body, keyLength)) throw invalidQuery("the cursor is not valid: pass next_cursor from a previous page unchanged");
  if (body.q !== hash) throw invalidQuery("the cursor belongs to a different query: a cursor continues only the exact query text that returned it");
  return { key: { values: body.k, id: body.i }, returned: body.n };
}

function isBody(b: unknown, keyLength: number): b is CursorBody {
  if (typeof b !== "object" || b === null) return false;
  const o = b as Record<string, unknown>;
  return typeof o.q === "string" && typeof o.i === "string" && UUID_PATTERN.test(o.i) && Number.isSafeInteger(o.n) && (o.n as number) >= 0 && Array.isArray(o.k) && o.k.length === keyLength && o.k.every(isIndexValue);
}

function isIndexValue(v: unknown): v is IndexValue {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  switch (o.t) {
    case "null":
      return true;
    case "bool":
      return typeof o.v === "boolean";
    case "number":
    case "date":
      return typeof o.v === "number" && Number.isFinite(o.v);
    case "string":
      return typeof o.v === "string";
    default:
      return false;
  }
}
