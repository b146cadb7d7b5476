import type { JsonObject } from "../../events/model/json-value.js";

/**
 * Built-in schema templates (seed 003): starting points cloned by
 * `rem schema add --name N --template T`. The clone gets the new name and
 * `fully_qualified_name: "user.<name>"`; fields and REM extensions are kept.
 */
export interface Template {
  readonly name: string;
  readonly description: string;
  readonly definition: JsonObject;
}

export const TEMPLATES: readonly Template[] = [
  {
    name: "resources",
    description: "Chunked documents with embeddings (URI-based)",
    definition: {
      title: "Resource",
      description: "A chunk of a document: article, page, PDF section. Embedded for semantic search.",
      type: "object",
      properties: {
        name: { type: "string", description: "Document title" },
        content: { type: "string", description: "The chunk's text" },
        uri: { type: "string", description: "Where the document lives; with chunk_ordinal, its identity" },
        chunk_ordinal: { type: "integer", minimum: 0, description: "Position of this chunk in the document" },
        content_type: { type: "string", description: "MIME type or kind, e.g. text/markdown" },
        metadata: { type: "object", description: "Free-form metadata" },
      },
      required: ["content"],
      json_schema_extra: {
        name: "resources",
        fully_qualified_name: "rem.resources",
        embedding_fields: ["content"],
        indexed_fields: ["content_type"],
        key_field: "uri",
      },
    },
  },
  {
    name: "entities",
    description: "Generic structured data (name-based)",
    definition: {
      title: "Entity",
      description: "A named thing with free-form properties.",
      type: "object",
      properties: {
        name: { type: "string" },
        key: { type: "string", description: "An alternative natural key" },
        properties: { type: "object", description: "Free-form attributes" },
      },
      required: ["name"],
      json_schema_extra: { name: "entities", fully_qualified_name: "rem.entities", indexed_fields: ["name"], key_field: "name" },
    },
  },
  {
    name: "agentlets",
    description: "AI agent definitions (with tools/resources)",
    definition: {
      title: "Agentlet",
      description: "An AI agent: what it does, which tools (MCP servers) and resources it uses.",
      type: "object",
      properties: {
        name: { type: "string" },
        description: { type: "string", description: "What the agent does (embedded for search)" },
        system_prompt: { type: "string" },
        tools: {
          type: "array",
          items: {
            type: "object",
            properties: { name: { type: "string" }, mcp_server: { type: "string" }, description: { type: "string" } },
            required: ["name"],
          },
        },
        resources: { type: "array", items: { type: "string" }, description: "Resource URIs the agent may read" },
        mcp_config: { type: "object", description: "MCP server configuration" },
      },
      required: ["name", "description"],
      json_schema_extra: { name: "agentlets", fully_qualified_name: "rem.agentlets", embedding_fields: ["description"], indexed_fields: ["name"], key_field: "name" },
    },
  },
  {
    name: "moments",
    description: "Temporal classifications (time-range queries)",
    definition: {
      title: "Moment",
      description: "A span of time classified by what happened in it.",
      type: "object",
      properties: {
        name: { type: "string" },
        start_time: { type: "string", format: "date-time" },
        end_time: { type: "string", format: "date-time" },
        classifications: { type: "array", items: { type: "string" } },
      },
      required: ["name", "start_time"],
      json_schema_extra: { name: "moments", fully_qualified_name: "rem.moments", indexed_fields: ["start_time", "end_time"] },
    },
  },
];

export function findTemplate(name: string): Template | undefined {
  return TEMPLATES.find((t) => t.name === name);
}

/** A template cloned under a new name, as `rem schema add --name N --template T` registers it. */
export function fromTemplate(template: Template, name: string): JsonObject {
  const def = structuredClone(template.definition);
  const extra = (def.json_schema_extra ?? {}) as JsonObject;
  def.json_schema_extra = { ...extra, name, fully_qualified_name: `user.${name}` };
  def.title = name;
  return def;
}
