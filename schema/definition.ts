import { RemError } from "../src/errors.js";
import type { JsonObject, JsonValue } from "../events/model/json-value.js";
import { SCHEMA_NAME_PATTERN } from "../events/model/events.js";

/** Fields REM adds to every entity; a schema may not define them and an insert may not set them (but `id`). */
export const SYSTEM_FIELDS = ["id", "entity_type", "created_at", "modified_at", "deleted_at", "edges"] as const;
export type SystemField = (typeof SYSTEM_FIELDS)[number];

/** How an indexed field's values are encoded in the index (and compared in queries). */
export type FieldKind = "string" | "number" | "integer" | "boolean" | "date" | "array" | "object" | "any";

export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
  /** For arrays: the kind of the items (each item is indexed). */
  readonly items: FieldKind | null;
}

/**
 * A schema as REM uses it: the JSON Schema document plus its REM extensions,
 * resolved from the top level, from `json_schema_extra`, or per field
 * (Pydantic's `Field(json_schema_extra=…)` style).
 */
export interface SchemaSpec {
  readonly name: string;
  readonly fullyQualifiedName: string;
  readonly description: string | null;
  readonly definition: JsonObject;
  readonly fields: ReadonlyMap<string, FieldInfo>;
  readonly indexedFields: readonly string[];
  readonly embeddingFields: readonly string[];
  readonly keyField: string | null;
  readonly embeddingProvider: string | null;
  /** Per-field providers (a field's own `embedding_provider`). */
  readonly fieldProviders: ReadonlyMap<string, string>;
  /** HNSW parameters from the `hnsw` extension ({m, ef_construction, ef_search}); unset ones take the defaults. */
  readonly hnsw: { readonly m?: number; readonly efConstruction?: number; readonly efSearch?: number };
}

function invalid(message: string, path: string): RemError {
  return new RemError("REM_ERR_SCHEMA_INVALID", message, { path, field: path });
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

function strings(v: JsonValue | undefined, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw invalid(`${path} must be a list of field names`, path);
  return v as string[];
}

/** Top-level extensions may sit at the root or under `json_schema_extra` (the root wins on conflict). */
function extension(def: JsonObject, key: string): JsonValue | undefined {
  if (def[key] !== undefined) return def[key];
  const extra = def.json_schema_extra;
  return isObject(extra) ? extra[key] : undefined;
}

function fieldExtension(prop: JsonObject, key: string): JsonValue | undefined {
  if (prop[key] !== undefined) return prop[key];
  const extra = prop.json_schema_extra;
  return isObject(extra) ? extra[key] : undefined;
}

function kindOf(prop: JsonObject): FieldKind {
  let t = prop.type;
  if (Array.isArray(t)) t = t.filter((x) => x !== "null")[0] ?? "any"; // ["string", "null"] is an optional string
  if (t === undefined && Array.isArray(prop.anyOf)) {
    const first = (prop.anyOf as JsonValue[]).find((s) => isObject(s) && s.type !== "null");
    return isObject(first) ? kindOf(first) : "any";
  }
  if (t === "string" && (prop.format === "date-time" || prop.format === "date")) return "date";
  if (t === "string" || t === "number" || t === "integer" || t === "boolean" || t === "array" || t === "object") return t;
  return "any";
}

/** The schema's name: `short_name`, then `name`, then the title in snake_case. */
export function schemaNameOf(def: JsonObject): string | null {
  for (const key of ["short_name", "name"]) {
    const v = extension(def, key);
    if (typeof v === "string") return v;
  }
  if (typeof def.title === "string") {
    const snake = def.title
      .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
      .replace(/[^A-Za-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .toLowerCase();
    return snake === "" ? null : snake;
  }
  return null;
}

/**
 * Reads a JSON Schema document into a SchemaSpec, checking that the REM
 * extensions name real fields and that no system field is defined.
 * Throws REM_ERR_SCHEMA_INVALID naming the offending path.
 */
export function parseSchema(definition: JsonObject, nameOverride?: string): SchemaSpec {
  const name = nameOverride ?? schemaNameOf(definition);
  if (name === null) throw invalid("the schema has no name: set `name` (or `short_name`, or a `title`)", "name");
  if (!SCHEMA_NAME_PATTERN.test(name)) {
    throw invalid(`schema name ${JSON.stringify(name)} is not valid: use a-z, 0-9 and '_', starting with a letter, at most 64 characters`, "name");
  }
  if (definition.type !== undefined && definition.type !== "object") throw invalid('a schema describes objects: "type" must be "object"', "type");
  const props = definition.properties ?? {};
  if (!isObject(props)) throw invalid('"properties" must be an object', "properties");

  const fields = new Map<string, FieldInfo>();
  const indexed = new Set(strings(extension(definition, "indexed_fields"), "indexed_fields"));
  const embedded = new Set(strings(extension(definition, "embedding_fields"), "embedding_fields"));
  const fieldProviders = new Map<string, string>();
  let keyField = extension(definition, "key_field");
  if (keyField !== undefined && keyField !== null && typeof keyField !== "string") throw invalid("key_field must be a field name", "key_field");

  for (const [field, raw] of Object.entries(props)) {
    if ((SYSTEM_FIELDS as readonly string[]).includes(field)) {
      throw invalid(`"${field}" is a system field REM adds to every entity; remove it from properties`, `properties.${field}`);
    }
    if (!isObject(raw)) throw invalid(`properties.${field} must be a JSON Schema object`, `properties.${field}`);
    const kind = kindOf(raw);
    const items = kind === "array" && isObject(raw.items) ? kindOf(raw.items) : null;
    fields.set(field, { name: field, kind, items });
    if (fieldExtension(raw, "key_field") === true) {
      if (typeof keyField === "string" && keyField !== field) throw invalid(`two key fields: ${keyField} and ${field}`, `properties.${field}`);
      keyField = field;
    }
    if (fieldExtension(raw, "indexed") === true || fieldExtension(raw, "indexed_field") === true) indexed.add(field);
    const provider = fieldExtension(raw, "embedding_provider");
    if (fieldExtension(raw, "embedding") === true || fieldExtension(raw, "embedding_field") === true || typeof provider === "string") embedded.add(field);
    if (typeof provider === "string") fieldProviders.set(field, provider);
  }

  const known = (list: Iterable<string>, what: string) => {
    for (const f of list) {
      if (!fields.has(f)) throw invalid(`${what} names "${f}", which is not in properties`, what);
    }
  };
  known(indexed, "indexed_fields");
  known(embedded, "embedding_fields");
  if (typeof keyField === "string") known([keyField], "key_field");
  for (const f of indexed) {
    const info = fields.get(f)!;
    if (info.kind === "object" || (info.kind === "array" && (info.items === "object" || info.items === "array"))) {
      throw invalid(`indexed field "${f}" holds objects; index scalar fields (or arrays of scalars)`, `properties.${f}`);
    }
  }
  const provider = extension(definition, "embedding_provider");
  const hnswExt = extension(definition, "hnsw");
  const hnsw: { m?: number; efConstruction?: number; efSearch?: number } = {};
  if (hnswExt !== undefined && hnswExt !== null) {
    if (!isObject(hnswExt)) throw invalid("hnsw must be an object {m, ef_construction, ef_search}", "hnsw");
    const int = (key: string, min: number, max: number): number | undefined => {
      const v = hnswExt[key];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw invalid(`hnsw.${key} must be an integer from ${min} to ${max}`, `hnsw.${key}`);
      return v;
    };
    const m = int("m", 2, 128);
    const efc = int("ef_construction", 8, 2000);
    const efs = int("ef_search", 8, 4000);
    if (m !== undefined) hnsw.m = m;
    if (efc !== undefined) hnsw.efConstruction = efc;
    if (efs !== undefined) hnsw.efSearch = efs;
  }
  const fqn = extension(definition, "fully_qualified_name");
  const description = typeof definition.description === "string" ? definition.description : null;
  return {
    name,
    fullyQualifiedName: typeof fqn === "string" ? fqn : `user.${name}`,
    description,
    definition,
    fields,
    indexedFields: [...indexed].sort(),
    embeddingFields: [...embedded].sort(),
    keyField: typeof keyField === "string" ? keyField : null,
    embeddingProvider: typeof provider === "string" ? provider : null,
    fieldProviders,
    hnsw,
  };
}
