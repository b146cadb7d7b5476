import { Ajv, type ValidateFunction } from "ajv";
import * as addFormatsModule from "ajv-formats";
import { RemError } from "../src/errors.js";
import type { JsonObject } from "../events/model/json-value.js";
import { SYSTEM_FIELDS, type SchemaSpec } from "./definition.js";

// ajv-formats is CommonJS with `exports.default`; under NodeNext the function is that default.
const addFormats = (addFormatsModule as unknown as { default: (a: Ajv) => Ajv }).default;

/**
 * JSON Schema validation with ajv (draft 2020-12 keywords it supports by default,
 * plus formats such as date-time and email). REM's extension keywords are not
 * JSON Schema, so strict mode is off; unknown keywords are ignored.
 */
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
addFormats(ajv);

const compiled = new WeakMap<JsonObject, ValidateFunction>();

/** Compiles a schema's definition (once per definition object); REM_ERR_SCHEMA_INVALID if ajv rejects it. */
export function validatorFor(spec: SchemaSpec): ValidateFunction {
  let fn = compiled.get(spec.definition);
  if (fn === undefined) {
    try {
      fn = ajv.compile(spec.definition);
    } catch (cause) {
      throw new RemError("REM_ERR_SCHEMA_INVALID", `schema ${spec.name} is not valid JSON Schema: ${(cause as Error).message}`, { schema: spec.name }, { cause });
    }
    compiled.set(spec.definition, fn);
  }
  return fn;
}

/** Checks a definition compiles; used when registering. */
export function checkDefinition(spec: SchemaSpec): void {
  validatorFor(spec);
}

/**
 * Validates an entity's user fields against its schema. System fields may not
 * be set (they are REM's); `where` prefixes paths, e.g. `line 3` or `[2]`.
 * Throws REM_ERR_ENTITY_INVALID naming the field, e.g. `line 3: title: must be string`.
 */
export function validateEntity(spec: SchemaSpec, data: JsonObject, where: string): void {
  for (const f of SYSTEM_FIELDS) {
    if (f !== "id" && data[f] !== undefined) {
      throw new RemError("REM_ERR_ENTITY_INVALID", `${where}: ${f} is a system field managed by REM; leave it out`, { path: f, field: f, schema: spec.name });
    }
  }
  const fn = validatorFor(spec);
  if (fn(data)) return;
  const e = fn.errors?.[0];
  const pointer = e?.instancePath ?? "";
  let path = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join("")
    .replace(/^\./, "");
  if (e?.keyword === "required" && typeof e.params.missingProperty === "string") path = path ? `${path}.${e.params.missingProperty}` : e.params.missingProperty;
  if (e?.keyword === "additionalProperties" && typeof e.params.additionalProperty === "string") {
    const extra = e.params.additionalProperty;
    throw new RemError("REM_ERR_ENTITY_INVALID", `${where}: ${extra}: not a field of ${spec.name}`, { path: extra, field: extra, schema: spec.name });
  }
  const message = e?.keyword === "required" ? "is required" : (e?.message ?? "is invalid");
  throw new RemError("REM_ERR_ENTITY_INVALID", `${where}: ${path || "(entity)"}: ${message}`, { path, field: path.split(/[.[]/)[0], schema: spec.name });
}
