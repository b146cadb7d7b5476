import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packEntityTransient } from "../../projections/store/entity-bytes.js";
import { pack, unpack, type EntityRecord } from "../../projections/store/records.js";
import { jsonObject } from "../support/arbitraries.js";

/** Numbers around every msgpackr integer boundary, beyond 32 bits (timestamps), negative and fractional. */
const num = fc.oneof(
  fc.constantFrom(0, -0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0x80000001),
  fc.integer(),
  fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
  fc.double({ noNaN: true }),
);

const record: fc.Arbitrary<EntityRecord> = fc.record({
  id: fc.uuid(),
  schema: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,40}$/), fc.string({ minLength: 30, maxLength: 300, unit: "binary-ascii" })),
  data: jsonObject,
  created_at: num,
  modified_at: num,
  deleted_at: fc.option(num, { nil: null }),
  seq: num,
});

describe("packEntityTransient: an entity record around its data's encoded bytes", () => {
  it("equals msgpackr's pack of the whole record (property)", () => {
    fc.assert(
      fc.property(record, (rec) => {
        const ours = packEntityTransient(rec, pack(rec.data));
        expect(ours).not.toBeNull();
        expect(Buffer.from(ours!).equals(Buffer.from(pack(rec)))).toBe(true);
        expect(unpack(ours!)).toEqual(unpack(pack(rec))); // (-0 reads back as 0 either way)
      }),
      { numRuns: 500 },
    );
  });

  it("declines a non-ASCII schema name (plain pack then writes it)", () => {
    const rec: EntityRecord = { id: "6f1c0a7e-3b2d-4c1e-9a8f-0123456789ab", schema: "notes\u00e9", data: {}, created_at: 1, modified_at: 1, deleted_at: null, seq: 1 };
    expect(packEntityTransient(rec, pack(rec.data))).toBeNull();
  });

  it("grows its buffer for a record larger than it", () => {
    const rec: EntityRecord = { id: "6f1c0a7e-3b2d-4c1e-9a8f-0123456789ab", schema: "big", data: { text: "x".repeat(200_000) }, created_at: 1, modified_at: 2, deleted_at: 3, seq: 4 };
    expect(unpack(packEntityTransient(rec, pack(rec.data))!)).toEqual(rec);
  });
});
