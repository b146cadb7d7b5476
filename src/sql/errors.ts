import { RemError } from "../errors.js";

/**
 * A DuckDB error as a REM error. DuckDB names the kind of every error it
 * raises ("Permission Error: …", "Binder Error: …"); the kind says whose
 * problem it is:
 *
 *  - Permission (and missing extensions, the network): the statement tried to
 *    reach something outside what the session allows → REM_ERR_SQL_REFUSED;
 *  - Out of Memory, Interrupt (the time limit) → REM_ERR_SQL_LIMIT;
 *  - the engine's own failures (fatal, internal, transaction…), or an error
 *    that names no kind → REM_ERR_INTERNAL;
 *  - any other kind (parser, binder, catalog, conversion, input, range…) is
 *    the statement's fault → REM_ERR_SQL_INVALID.
 */
export function sqlError(err: unknown): RemError {
  if (err instanceof RemError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // The node binding may prefix DuckDB's message ("Failed to extract statements: Parser Error: …").
  const m = /(?:^|: )([A-Za-z][A-Za-z ]*?) Error: /.exec(message);
  const kind = m?.[1]?.toLowerCase() ?? "";
  const text = (m === null ? message : message.slice(m.index + (m[0].startsWith(": ") ? 2 : 0))).split("\n")[0]!;
  const details = { field: "sql", duckdb: kind === "" ? "unknown" : kind };
  switch (kind) {
    case "":
    case "fatal":
    case "internal":
    case "transaction":
    case "scheduler":
    case "serialization":
    case "connection":
    case "executor":
      return new RemError("REM_ERR_INTERNAL", `the SQL engine failed: ${text}`, details, { cause: err });
    case "permission":
    case "missing extension":
    case "autoload":
    case "http":
    case "network":
      return new RemError("REM_ERR_SQL_REFUSED", `refused by the SQL sandbox: ${text} (rem sql reads the tenant's exports only)`, details, { cause: err });
    case "out of memory":
      return new RemError("REM_ERR_SQL_LIMIT", `the query needs more memory than a SQL session may use: ${text}`, { ...details, limit: "memory" }, { cause: err });
    case "interrupt":
      return new RemError("REM_ERR_SQL_LIMIT", "the query ran longer than the time limit and was stopped", { ...details, limit: "time" }, { cause: err });
    default:
      // parser, syntax, binder, catalog, conversion, invalid input, out of range, not implemented, IO (a missing file)…: the statement's fault
      return new RemError("REM_ERR_SQL_INVALID", text, details, { cause: err });
  }
}
