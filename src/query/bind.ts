import type { ProjectionStore } from "../../projections/store/store.js";
import { RemError } from "../errors.js";
import type { BoundPredicate, BoundQuery, Column, ColumnName, Predicate, Query } from "./ast.js";
import { invalidQuery, unsupported } from "./errors.js";
import { compileLike } from "./like.js";
import { bindLiteral } from "./values.js";

/** System fields every row has, and how they compare (timestamps as instants). */
const SYSTEM_COLUMNS: readonly Column[] = [
  { name: "id", kind: "string", items: null, system: true, indexed: false },
  { name: "entity_type", kind: "string", items: null, system: true, indexed: false },
  { name: "created_at", kind: "date", items: null, system: true, indexed: false },
  { name: "modified_at", kind: "date", items: null, system: true, indexed: false },
  { name: "deleted_at", kind: "date", items: null, system: true, indexed: false },
];

/**
 * Resolves a parsed query against the store's schema: every column must be a
 * property of the schema or a system field (REM_ERR_QUERY_INVALID naming it),
 * literals become comparable values under their column's kind, LIKE patterns
 * are compiled. Unknown schema: REM_ERR_SCHEMA_NOT_FOUND.
 */
export async function bindQuery(store: ProjectionStore, q: Query, sql: string): Promise<BoundQuery> {
  const spec = store.schemaSpec(q.schema);
  if (spec === undefined) {
    const known = (await store.listSchemas()).map((s) => s.name).sort();
    throw new RemError("REM_ERR_SCHEMA_NOT_FOUND", `unknown schema ${JSON.stringify(q.schema)} in FROM; ${known.length === 0 ? "no schema is registered yet" : `registered schemas: ${known.join(", ")}`}`, { schema: q.schema });
  }
  const indexed = new Set(spec.indexedFields);
  const columns = new Map<string, Column>(SYSTEM_COLUMNS.map((c) => [c.name, c]));
  for (const f of spec.fields.values()) columns.set(f.name, { name: f.name, kind: f.kind, items: f.items, system: false, indexed: indexed.has(f.name) });

  const col = (c: ColumnName): Column => {
    const found = columns.get(c.name);
    if (found !== undefined) return found;
    const hint = c.quoted ? " (double quotes name a column; strings take single quotes: 'text')" : "";
    throw invalidQuery(`unknown column ${JSON.stringify(c.name)} in schema ${JSON.stringify(spec.name)}${hint}; columns are: ${[...columns.keys()].join(", ")}`, { field: c.name, schema: spec.name });
  };

  const orderBy = q.orderBy.map((o) => {
    const c = col(o.column);
    if (c.kind === "array" || c.kind === "object") throw unsupported(`ORDER BY ${c.name}: it is an ${c.kind} field, which holds several values or none`, { field: c.name });
    return { column: c, direction: o.direction };
  });
  if (q.projection.kind === "count" && orderBy.length > 0) throw unsupported("ORDER BY with COUNT(*) (it returns one row)");
  const projection = q.projection.kind === "columns" ? { kind: "columns" as const, columns: q.projection.columns.map((c) => ({ column: col(c.column), as: c.as })) } : q.projection;
  return { ...q, sql, indexedFields: spec.indexedFields, projection, orderBy, where: q.where === null ? null : bindPredicate(q.where, col) };
}

function bindPredicate(p: Predicate, col: (c: ColumnName) => Column): BoundPredicate {
  switch (p.kind) {
    case "and":
    case "or":
      return { kind: p.kind, items: p.items.map((i) => bindPredicate(i, col)) };
    case "not":
      return { kind: "not", item: bindPredicate(p.item, col) };
    case "compare": {
      const c = col(p.column);
      return { kind: "compare", column: c, op: p.op, value: bindLiteral(c, p.value) };
    }
    case "in": {
      const c = col(p.column);
      return { kind: "in", column: c, values: p.values.map((v) => bindLiteral(c, v)), negated: p.negated };
    }
    case "between": {
      const c = col(p.column);
      return { kind: "between", column: c, low: bindLiteral(c, p.low), high: bindLiteral(c, p.high), negated: p.negated };
    }
    case "like":
      return { kind: "like", column: col(p.column), pattern: p.pattern === null ? null : compileLike(p.pattern), negated: p.negated };
    case "is_null":
      return { kind: "is_null", column: col(p.column), negated: p.negated };
  }
}
