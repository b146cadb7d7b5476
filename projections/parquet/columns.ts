import { createHash } from "node:crypto";
import type { JsonObject, JsonValue } from "../../events/model/json-value.js";
import type { SchemaSpec } from "../../schema/definition.js";

/**
 * How a schema's entities become Parquet columns (docs/analytics.md, "Columns").
 *
 * The mapping is a pure function of the JSON Schema document (and whether
 * embeddings are exported), so a full rebuild and an incremental export of the
 * same schema always produce the same columns. Anything the typed column of a
 * field cannot represent exactly goes, as JSON, into `_extra`: the export loses
 * nothing, whatever the log holds.
 */

/** The DuckDB type of a column, as a tree (lists and structs nest). */
export type ColumnType =
  | { readonly kind: "uuid" }
  | { readonly kind: "varchar" }
  | { readonly kind: "json" }
  | { readonly kind: "double" }
  | { readonly kind: "bigint" }
  | { readonly kind: "boolean" }
  | { readonly kind: "timestamp" }
  | { readonly kind: "date" }
  | { readonly kind: "float" }
  | { readonly kind: "list"; readonly child: ColumnType }
  | { readonly kind: "struct"; readonly fields: readonly StructField[] };

export interface StructField {
  /** The key in the JSON object. */
  readonly key: string;
  /** The STRUCT field name (unique case-insensitively within its struct, as DuckDB requires). */
  readonly name: string;
  readonly type: ColumnType;
}

/** A user field's column. */
export interface FieldColumn {
  /** The key in the entity's data. */
  readonly field: string;
  /** The column name: the field name, or a suffixed one when it collides (case-insensitively) with another column. */
  readonly name: string;
  readonly type: ColumnType;
}

/** An embedded field's vector column (FLOAT[]), when embeddings are exported. */
export interface EmbeddingColumn {
  readonly field: string;
  readonly name: string;
}

/** Every column of one schema's export files, in file order. */
export interface ExportPlan {
  readonly schema: string;
  readonly fields: readonly FieldColumn[];
  readonly embeddings: readonly EmbeddingColumn[];
  /** A digest of the plan: files written under another plan are rewritten. */
  readonly fingerprint: string;
}

/**
 * System columns: `id` … `deleted_at` are REM's system fields, `_seq` the commit
 * that last changed the entity, `_extra` what the typed columns could not hold.
 * `_deleted` marks tombstones in delta files; views never show it.
 */
export const SYSTEM_COLUMNS = ["id", "entity_type", "created_at", "modified_at", "deleted_at"] as const;
export const EXTRA_COLUMN = "_extra";
export const SEQ_COLUMN = "_seq";
export const DELETED_COLUMN = "_deleted";
const RESERVED = [...SYSTEM_COLUMNS, EXTRA_COLUMN, SEQ_COLUMN, DELETED_COLUMN];

/** Bump when the mapping changes: every export is then rewritten. */
export const PLAN_VERSION = 1;
/** Deeper nesting is exported as JSON (DuckDB handles deep STRUCTs, people rarely query them). */
const MAX_DEPTH = 8;

/** The export columns of a schema. */
export function exportPlan(spec: SchemaSpec, options: { embeddings: boolean }): ExportPlan {
  const taken = new Set(RESERVED.map((n) => n.toLowerCase()));
  const props = isObject(spec.definition.properties) ? spec.definition.properties : {};
  const fields: FieldColumn[] = [];
  for (const [field, prop] of Object.entries(props)) {
    const type = isObject(prop) ? columnType(prop, spec.definition, 0, new Set()) : JSON_TYPE;
    fields.push({ field, name: unique(field, taken), type });
  }
  const embeddings = options.embeddings ? spec.embeddingFields.map((field) => ({ field, name: unique(`${field}_embedding`, taken) })) : [];
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ v: PLAN_VERSION, schema: spec.name, fields, embeddings }))
    .digest("hex")
    .slice(0, 16);
  return { schema: spec.name, fields, embeddings, fingerprint };
}

/** The plan of a schema whose definition REM cannot read (appended raw): system columns only, every field in `_extra`. */
export function fallbackPlan(schema: string): ExportPlan {
  const fingerprint = createHash("sha256").update(JSON.stringify({ v: PLAN_VERSION, schema, fallback: true })).digest("hex").slice(0, 16);
  return { schema, fields: [], embeddings: [], fingerprint };
}

const JSON_TYPE: ColumnType = { kind: "json" };

/** A name not yet taken (DuckDB compares identifiers case-insensitively), recorded as taken. */
function unique(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${name}_${n}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/**
 * The column type of a JSON Schema property. Local `$ref`s (`#/$defs/…`,
 * `#/definitions/…`, as Pydantic writes nested models) are followed; a
 * recursive reference, a union of different types, or an object without
 * declared properties becomes JSON.
 */
export function columnType(prop: JsonObject, root: JsonObject, depth: number, refs: ReadonlySet<string>): ColumnType {
  if (depth > MAX_DEPTH) return JSON_TYPE;
  const ref = prop.$ref;
  if (typeof ref === "string") {
    const target = resolveRef(root, ref);
    if (target === undefined || refs.has(ref)) return JSON_TYPE;
    return columnType(target, root, depth, new Set([...refs, ref]));
  }
  let t = prop.type;
  if (Array.isArray(t)) {
    const nonNull = [...new Set(t.filter((x) => x !== "null"))];
    if (nonNull.length === 2 && nonNull.includes("integer") && nonNull.includes("number")) t = "number";
    else if (nonNull.length === 1) t = nonNull[0]!;
    else return JSON_TYPE;
  }
  if (t === undefined) {
    for (const key of ["anyOf", "oneOf", "allOf"]) {
      const alts = prop[key];
      if (!Array.isArray(alts)) continue;
      const nonNull = alts.filter((a): a is JsonObject => isObject(a) && a.type !== "null");
      if (nonNull.length === 0) return JSON_TYPE;
      const types = nonNull.map((a) => columnType(a, root, depth, refs));
      const first = JSON.stringify(types[0]);
      return types.every((x) => JSON.stringify(x) === first) ? types[0]! : JSON_TYPE;
    }
    const values = Array.isArray(prop.enum) ? prop.enum : prop.const !== undefined ? [prop.const] : null;
    if (values !== null) return enumType(values);
    return JSON_TYPE;
  }
  switch (t) {
    case "string":
      if (prop.format === "date-time") return { kind: "timestamp" };
      if (prop.format === "date") return { kind: "date" };
      if (prop.format === "uuid") return { kind: "uuid" };
      return { kind: "varchar" };
    case "number":
      return { kind: "double" };
    case "integer":
      return { kind: "bigint" };
    case "boolean":
      return { kind: "boolean" };
    case "array": {
      const items = prop.items;
      if (!isObject(items)) return JSON_TYPE; // a tuple (prefixItems) or items of any shape
      return { kind: "list", child: columnType(items, root, depth + 1, refs) };
    }
    case "object": {
      const props = prop.properties;
      if (!isObject(props) || Object.keys(props).length === 0) return JSON_TYPE;
      const taken = new Set<string>();
      const fields = Object.entries(props).map(([key, p]) => ({
        key,
        name: unique(key, taken),
        type: isObject(p) ? columnType(p, root, depth + 1, refs) : JSON_TYPE,
      }));
      return { kind: "struct", fields };
    }
    default:
      return JSON_TYPE;
  }
}

function enumType(values: readonly JsonValue[]): ColumnType {
  const nonNull = values.filter((v) => v !== null);
  if (nonNull.length > 0 && nonNull.every((v) => typeof v === "string")) return { kind: "varchar" };
  if (nonNull.length > 0 && nonNull.every((v) => typeof v === "boolean")) return { kind: "boolean" };
  if (nonNull.length > 0 && nonNull.every((v) => typeof v === "number")) return nonNull.every((v) => Number.isInteger(v)) ? { kind: "bigint" } : { kind: "double" };
  return JSON_TYPE;
}

function resolveRef(root: JsonObject, ref: string): JsonObject | undefined {
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (m === null) return undefined;
  const defs = root[m[1]!];
  if (!isObject(defs)) return undefined;
  const target = defs[decodeURIComponent(m[2]!).replace(/~1/g, "/").replace(/~0/g, "~")];
  return isObject(target) ? target : undefined;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted SQL string literal. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The DuckDB DDL of a column type. */
export function sqlType(t: ColumnType): string {
  switch (t.kind) {
    case "uuid":
      return "UUID";
    case "varchar":
      return "VARCHAR";
    case "json":
      return "JSON";
    case "double":
      return "DOUBLE";
    case "bigint":
      return "BIGINT";
    case "boolean":
      return "BOOLEAN";
    case "timestamp":
      // UTC instants as TIMESTAMP, not TIMESTAMPTZ: DuckDB computes TIMESTAMPTZ calendar
      // functions (date_trunc, extract…) through ICU time zones, 4x slower here (docs/analytics.md).
      return "TIMESTAMP";
    case "date":
      return "DATE";
    case "float":
      return "FLOAT";
    case "list":
      return `${sqlType(t.child)}[]`;
    case "struct":
      return `STRUCT(${t.fields.map((f) => `${ident(f.name)} ${sqlType(f.type)}`).join(", ")})`;
  }
}

/** Column name and DuckDB type of every column of the staging table, in order (entity_type is added when copying). */
export function stagingColumns(plan: ExportPlan): { name: string; type: ColumnType }[] {
  return [
    { name: "id", type: { kind: "uuid" } },
    { name: "created_at", type: { kind: "timestamp" } },
    { name: "modified_at", type: { kind: "timestamp" } },
    { name: "deleted_at", type: { kind: "timestamp" } },
    ...plan.fields.map((f) => ({ name: f.name, type: f.type })),
    { name: EXTRA_COLUMN, type: JSON_TYPE },
    ...plan.embeddings.map((e) => ({ name: e.name, type: { kind: "list", child: { kind: "float" } } as ColumnType })),
    { name: SEQ_COLUMN, type: { kind: "bigint" } },
    { name: DELETED_COLUMN, type: { kind: "boolean" } },
  ];
}

/** The SELECT list turning a staging table into file rows: entity_type added as a constant, in file column order. */
export function fileSelectList(plan: ExportPlan): string {
  const cols = stagingColumns(plan).map((c) => ident(c.name));
  return [cols[0]!, `${literal(plan.schema)} AS entity_type`, ...cols.slice(1)].join(", ");
}
