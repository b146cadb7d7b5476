/**
 * The `rem sql` constants the CLI and the HTTP schema need when they register,
 * apart from the DuckDB modules (a ~200 ms native load that only SQL and
 * export commands should pay).
 */

/** Longest SQL text accepted. */
export const MAX_SQL_LENGTH = 100_000;

export type SqlFormat = "json" | "csv" | "table";
export const SQL_FORMATS: readonly SqlFormat[] = ["json", "csv", "table"];
