import { invalidQuery } from "./errors.js";

/** A compiled LIKE pattern. */
export interface LikePattern {
  readonly source: string;
  /** matches the whole string */
  readonly regex: RegExp;
  /** the literal text before the first wildcard: every match starts with it (an index prefix range) */
  readonly prefix: string;
  /** true when the pattern has no wildcard at all */
  readonly exact: boolean;
}

/**
 * Compiles a SQL LIKE pattern: `%` is any run of characters, `_` exactly one
 * character (one code point), `\` makes the next character literal (PostgreSQL's
 * default escape). Case-sensitive. A trailing lone `\` is REM_ERR_QUERY_INVALID.
 */
export function compileLike(pattern: string): LikePattern {
  let re = "";
  let prefix = "";
  let inPrefix = true;
  const chars = [...pattern]; // code points, so `_` never splits a surrogate pair
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "%" || c === "_") {
      re += c === "%" ? "[\\s\\S]*" : "[\\s\\S]";
      inPrefix = false;
      continue;
    }
    let literal = c;
    if (c === "\\") {
      const next = chars[++i];
      if (next === undefined) throw invalidQuery(`LIKE pattern ${JSON.stringify(pattern)} ends with the escape character \\; write \\\\ for a literal backslash`);
      literal = next;
    }
    re += literal.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    if (inPrefix) prefix += literal;
  }
  return { source: pattern, regex: new RegExp(`^${re}$`, "u"), prefix, exact: inPrefix };
}
