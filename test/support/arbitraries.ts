import fc from "fast-check";
import type { Event } from "../../events/model/events.js";
import type { JsonObject, JsonValue } from "../../events/model/json-value.js";

const key = fc.string({ maxLength: 12 }).filter((k) => k !== "__proto__");

/** JSON values as REM stores them (finite numbers, plain objects). */
export const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue; object: JsonObject }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 40 }),
    fc.array(tie("value"), { maxLength: 4 }),
    tie("object"),
  ),
  object: fc.dictionary(key, tie("value"), { maxKeys: 5 }) as fc.Arbitrary<JsonObject>,
})).value;

export const jsonObject: fc.Arbitrary<JsonObject> = fc.dictionary(key, jsonValue, { maxKeys: 6 }) as fc.Arbitrary<JsonObject>;

const uuid = fc.uuid().map((u) => u.toLowerCase());
const schemaName = fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/);
const edgeType = fc.stringMatching(/^[A-Za-z0-9_:.-]{1,20}$/);
const keyIdHex = fc.stringMatching(/^[0-9a-f]{16}$/);

export const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ type: fc.constant("entity.upserted" as const), v: fc.constant(1), id: uuid, entity_id: uuid, schema: schemaName, data: jsonObject }),
  fc.record({ type: fc.constant("entity.deleted" as const), v: fc.constant(1), id: uuid, entity_id: uuid, schema: schemaName }),
  fc.record({ type: fc.constant("edge.added" as const), v: fc.constant(1), id: uuid, src: uuid, dst: uuid, edge_type: edgeType, props: jsonObject }),
  fc.record({ type: fc.constant("edge.removed" as const), v: fc.constant(1), id: uuid, src: uuid, dst: uuid, edge_type: edgeType }),
  fc.record({ type: fc.constant("schema.registered" as const), v: fc.constant(1), id: uuid, name: schemaName, definition: jsonObject }),
  fc.record({ type: fc.constant("schema.changed" as const), v: fc.constant(1), id: uuid, name: schemaName, definition: jsonObject }),
  fc.record({ type: fc.constant("schema.dropped" as const), v: fc.constant(1), id: uuid, name: schemaName }),
  fc
    .record({
      type: fc.constant("embedding.recorded" as const),
      v: fc.constant(1),
      id: uuid,
      entity_id: uuid,
      schema: schemaName,
      field: fc.string({ minLength: 1, maxLength: 20 }),
      model: fc.string({ minLength: 1, maxLength: 20 }),
      values: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 16 }),
      text_hash: fc.stringMatching(/^[0-9a-f]{32}$/),
    })
    .map(({ values, ...e }) => ({ ...e, dim: values.length, vector: Float32Array.from(values) })),
  fc.record({
    type: fc.constant("key.rotated" as const),
    v: fc.constant(1),
    id: uuid,
    purpose: fc.constant("signing" as const),
    key_id: keyIdHex,
    public_key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    previous_key_id: fc.option(keyIdHex, { nil: null }),
  }),
  fc.record({ type: fc.constant("key.rotated" as const), v: fc.constant(1), id: uuid, purpose: fc.constant("data" as const), key_id: keyIdHex, previous_key_id: fc.option(keyIdHex, { nil: null }) }),
);

export const events = fc.array(event, { minLength: 1, maxLength: 6 });
