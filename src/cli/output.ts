import { asRemError } from "../errors.js";

/** Data goes to stdout as JSON; progress and logs go to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** One JSON document per line, for streams (JSONL). Resolves once the line is handed to the OS, honouring back-pressure. */
export function printJsonLine(value: unknown): Promise<void> | void {
  if (!process.stdout.write(JSON.stringify(value) + "\n")) {
    return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
  }
}

export function note(message: string): void {
  process.stderr.write(`rem: ${message}\n`);
}

/** Exit codes: 0 ok, 1 an error REM reports (code on stderr), 2 usage, 3 conflict. */
export const EXIT = { ok: 0, error: 1, usage: 2, conflict: 3 } as const;

/** Prints an error as `{"error": {code, message, details}}` on stderr and returns the exit code. */
export function reportError(err: unknown): number {
  const e = asRemError(err);
  process.stderr.write(JSON.stringify({ error: e.toJSON() }) + "\n");
  if (e.code === "REM_ERR_INTERNAL" && err instanceof Error && process.env.REM_DEBUG) process.stderr.write(`${err.stack}\n`);
  if (e.code === "REM_ERR_LOG_CONFLICT") return EXIT.conflict;
  if (e.code === "REM_ERR_INVALID_ARGUMENT") return EXIT.usage;
  return EXIT.error;
}
