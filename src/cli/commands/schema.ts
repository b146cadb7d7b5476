import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { RemError } from "../../errors.js";
import { parseSchema } from "../../../schema/definition.js";
import { findTemplate, fromTemplate, TEMPLATES } from "../../../schema/templates/templates.js";
import { dropSchema, registerSchema, requireSchema } from "../../node/writes.js";
import { printJson } from "../output.js";
import { withTenant } from "../tenant-context.js";

export function registerSchemaCommands(program: Command): void {
  const schema = program.command("schema").description("register and inspect schemas (JSON Schema with REM extensions)");

  schema
    .command("add [file]")
    .description("register a schema from a JSON or YAML file, or clone a template with --name N --template T")
    .option("--name <name>", "schema name (with --template, or to override the file's)")
    .option("--template <template>", "clone a built-in template (see `rem schema templates`)")
    .option("--output <file>", "with --template: write the schema to this file (.json/.yaml) instead of registering it")
    .action(async (file: string | undefined, opts: { name?: string; template?: string; output?: string }, cmd: Command) => {
      let definition: unknown;
      if (opts.template !== undefined) {
        if (file !== undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "give a file or --template, not both", { field: "template" });
        const t = findTemplate(opts.template);
        if (t === undefined) {
          throw new RemError("REM_ERR_INVALID_ARGUMENT", `no template ${JSON.stringify(opts.template)}; templates: ${TEMPLATES.map((x) => x.name).join(", ")}`, { field: "template" });
        }
        if (opts.name === undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "--template needs --name for the new schema", { field: "name" });
        definition = fromTemplate(t, opts.name);
        parseSchema(definition as never); // check the name before writing or registering
        if (opts.output !== undefined) {
          const yaml = /\.ya?ml$/i.test(opts.output);
          await writeFile(opts.output, yaml ? stringifyYaml(definition) : JSON.stringify(definition, null, 2) + "\n");
          printJson({ name: opts.name, template: opts.template, output: opts.output, registered: false });
          return;
        }
      } else {
        if (file === undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "give a schema file (JSON or YAML), or --name N --template T", { field: "file" });
        if (opts.output !== undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "--output goes with --template", { field: "output" });
        definition = await readDefinition(file);
      }
      const result = await withTenant(cmd, "write", (t) => registerSchema(t, definition, opts.template === undefined ? opts.name : undefined));
      printJson(result);
    });

  schema
    .command("list")
    .description("list registered schemas")
    .action(async (_o: object, cmd: Command) => {
      const rows = await withTenant(cmd, "read", async (t) =>
        (await t.store.listSchemas()).map((r) => {
          const spec = t.store.schemaSpec(r.name)!;
          return {
            name: r.name,
            fully_qualified_name: spec.fullyQualifiedName,
            description: spec.description,
            version: r.version,
            indexed_fields: spec.indexedFields,
            embedding_fields: spec.embeddingFields,
            key_field: spec.keyField,
          };
        }),
      );
      printJson(rows);
    });

  schema
    .command("show <name>")
    .description("print a schema's definition (JSON; re-registrable with `rem schema add`)")
    .action(async (name: string, _o: object, cmd: Command) => {
      printJson(await withTenant(cmd, "read", async (t) => requireSchema(t, name).definition));
    });

  schema
    .command("templates")
    .description("list the built-in templates")
    .action(() => {
      printJson(TEMPLATES.map((t) => ({ name: t.name, description: t.description })));
    });

  schema
    .command("drop <name>")
    .description("drop a schema and its entities from the projections (the log keeps their history)")
    .option("--yes", "confirm")
    .action(async (name: string, opts: { yes?: boolean }, cmd: Command) => {
      if (!opts.yes) throw new RemError("REM_ERR_INVALID_ARGUMENT", `dropping ${name} removes its entities: pass --yes`, { field: "yes" });
      printJson(await withTenant(cmd, "write", (t) => dropSchema(t, name)));
    });
}

/** A schema file: YAML when the extension says so, else JSON (falling back to YAML, a superset). */
async function readDefinition(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `cannot read ${file}: ${(cause as Error).message}`, { path: file }, { cause });
  }
  const ext = extname(file).toLowerCase();
  try {
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text) as unknown;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return parseYaml(text) as unknown;
    }
  } catch (cause) {
    throw new RemError("REM_ERR_SCHEMA_INVALID", `${file} is neither valid JSON nor YAML: ${(cause as Error).message}`, { path: file }, { cause });
  }
}
