/**
 * REM's SQL query engine over the projection store: a read-only SELECT subset
 * parsed by node-sql-parser into REM's own AST, planned onto the store's field
 * indexes (or a scan), and executed with keyset pagination.
 *
 *   const { rows, next_cursor } = await executeQuery(store, "SELECT * FROM articles WHERE category = 'news' ORDER BY n DESC LIMIT 10");
 *   const plan = await explainQuery(store, "SELECT * FROM articles WHERE category = 'news'");
 */
export { executeQuery, explainQuery, type QueryOptions, type QueryResult } from "./execute.js";
export type { AccessKind, Plan, PlanBound, PlanIndex } from "./plan.js";
export { SUPPORTED_SQL } from "./errors.js";
