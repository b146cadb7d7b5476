import { RemError, type ErrorDetails } from "../errors.js";

/** The grammar REM SQL accepts, quoted in every refusal so the caller sees what to write instead. */
export const SUPPORTED_SQL =
  "REM SQL supports: [EXPLAIN] SELECT * | col, … | COUNT(*) FROM schema [WHERE …] [ORDER BY col [ASC|DESC], …] [LIMIT n] [OFFSET m]; " +
  "predicates: = != <> < <= > >=, [NOT] IN (…), [NOT] BETWEEN a AND b, [NOT] LIKE 'pattern' (% and _), IS [NOT] NULL, AND, OR, NOT, parentheses; " +
  "literals: 'strings', numbers, TRUE, FALSE, NULL.";

/** REM_ERR_QUERY_UNSUPPORTED: valid SQL that REM does not run. `what` names the construct. */
export function unsupported(what: string, details: ErrorDetails = {}): RemError {
  return new RemError("REM_ERR_QUERY_UNSUPPORTED", `${what} is not supported. ${SUPPORTED_SQL}`, details);
}

/** REM_ERR_QUERY_INVALID: a query that cannot mean anything (bad syntax, unknown column, bad cursor…). */
export function invalidQuery(message: string, details: ErrorDetails = {}): RemError {
  return new RemError("REM_ERR_QUERY_INVALID", message, details);
}
