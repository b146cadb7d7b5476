import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { entityView } from "../../../projections/view.js";
import { deleteEntity, dropSchema, insertEntities, registerSchema, requireLive, requireSchema } from "../../node/writes.js";
import { withRequestTenant, type ServerContext } from "../context.js";
import { JSON_UTF8, minSeqQuery, SEQ_HEADER, tenantHeaders } from "./schemas-common.js";

/** Schemas and entities: register, insert (upsert), get, look up, delete. */
export function dataRoutes(ctx: ServerContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      "/api/v1/schemas",
      { config: { access: "write" }, schema: { tags: ["schemas"], summary: "Register (or change) a schema: a JSON Schema with REM extensions", headers: tenantHeaders, body: z.record(z.string(), z.unknown()) } },
      async (req, reply) => {
        const r = await withRequestTenant(ctx, req, (t) => registerSchema(t, req.body));
        void reply.header(SEQ_HEADER, String(r.seq));
        return reply.status(r.outcome === "registered" ? 201 : 200).send(r);
      },
    );

    app.get("/api/v1/schemas", { config: { access: "read" }, schema: { tags: ["schemas"], summary: "List schemas", headers: tenantHeaders, querystring: z.object(minSeqQuery) } }, async (req, reply) =>
      withRequestTenant(ctx, req, async (t) => {
        void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
        return (await t.store.listSchemas()).map((r) => {
          const spec = t.store.schemaSpec(r.name)!;
          return { name: r.name, fully_qualified_name: spec.fullyQualifiedName, description: spec.description, version: r.version, indexed_fields: spec.indexedFields, embedding_fields: spec.embeddingFields, key_field: spec.keyField };
        });
      }),
    );

    app.get(
      "/api/v1/schemas/:name",
      { config: { access: "read" }, schema: { tags: ["schemas"], summary: "A schema's definition", headers: tenantHeaders, params: z.object({ name: z.string() }), querystring: z.object(minSeqQuery) } },
      async (req) => withRequestTenant(ctx, req, async (t) => requireSchema(t, req.params.name).definition),
    );

    app.delete(
      "/api/v1/schemas/:name",
      { config: { access: "write" }, schema: { tags: ["schemas"], summary: "Drop a schema and its entities from the projections", headers: tenantHeaders, params: z.object({ name: z.string() }) } },
      async (req) => withRequestTenant(ctx, req, (t) => dropSchema(t, req.params.name)),
    );

    app.post(
      "/api/v1/entities/:schema",
      {
        config: { access: "write" },
        schema: {
          tags: ["entities"],
          summary: "Insert (upsert) one entity or an array of them; validated against the schema, all or nothing",
          headers: tenantHeaders,
          params: z.object({ schema: z.string() }),
          querystring: z.object({ embed: z.enum(["true", "false"]).default("true").describe("Embed before returning (searchable at once); false for bulk loads") }),
          body: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown())).min(1).max(100_000)]),
        },
      },
      async (req, reply) => {
        const objects = Array.isArray(req.body) ? req.body : [req.body];
        const r = await withRequestTenant(ctx, req, (t) =>
          insertEntities(t, req.params.schema, objects, { where: (i) => (Array.isArray(req.body) ? `[${i}]` : "entity"), embed: req.query.embed === "true" }),
        );
        ctx.metrics.appends.inc({ tenant: String(req.headers["x-tenant-id"]) }, objects.length);
        void reply.header(SEQ_HEADER, String(r.seq));
        return reply.status(201).send(r);
      },
    );

    app.get(
      "/api/v1/entities/:id",
      { config: { access: "read" }, schema: { tags: ["entities"], summary: "An entity with its system fields and outgoing edges", headers: tenantHeaders, params: z.object({ id: z.string() }), querystring: z.object(minSeqQuery) } },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          const { id, schema } = requireLive(t, req.params.id);
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          // Pre-serialised JSON (the store caches it for entities read before): sent as is.
          void reply.type(JSON_UTF8);
          return t.store.entityViewJson(schema, id)!;
        }),
    );

    app.delete(
      "/api/v1/entities/:id",
      { config: { access: "write" }, schema: { tags: ["entities"], summary: "Delete an entity (a tombstone)", headers: tenantHeaders, params: z.object({ id: z.string() }) } },
      async (req, reply) => {
        const r = await withRequestTenant(ctx, req, (t) => deleteEntity(t, req.params.id));
        void reply.header(SEQ_HEADER, String(r.seq));
        return r;
      },
    );

    app.get(
      "/api/v1/lookup/:key",
      { config: { access: "read" }, schema: { tags: ["entities"], summary: "Entities by natural key (uri, key field, key or name), across schemas", headers: tenantHeaders, params: z.object({ key: z.string() }), querystring: z.object(minSeqQuery) } },
      async (req, reply) =>
        withRequestTenant(ctx, req, async (t) => {
          void reply.header(SEQ_HEADER, String(t.store.checkpoint?.seq ?? 0));
          return t.store.lookupKey(req.params.key).map(({ id }) => entityView(t.store.getEntity(id, true)!));
        }),
    );
  };
}
