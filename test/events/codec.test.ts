import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEvents, encodeEvents } from "../../events/codec/events-codec.js";
import { parseCommit } from "../../events/codec/commit.js";
import { buildCommit, deriveCommitId } from "../../events/commit-builder.js";
import { blake3, ZERO_HASH } from "../../events/hash.js";
import type { Seq } from "../../events/model/ids.js";
import type { Event } from "../../events/model/events.js";
import { eventFromJson, eventToJson, validateEvent } from "../../events/model/validate.js";
import { open } from "../../events/encryption.js";
import { RemError } from "../../src/errors.js";
import { events, jsonObject } from "../support/arbitraries.js";
import { T, entityEvent, testDataKey, testSigner } from "../support/fixtures.js";

/** Rebuilds an object with its keys in reverse order, recursively: same content, other layout. */
function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof Float32Array)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).reverse()) out[k] = reorder((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** docs/event-format.md §4.2: array-index keys first, numerically; then the rest by UTF-16 code units. */
function canonicalOrder(keys: string[]): string[] {
  const isIndex = (k: string) => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) <= 2 ** 32 - 2;
  const idx = keys.filter(isIndex).sort((a, b) => Number(a) - Number(b));
  const rest = keys.filter((k) => !isIndex(k)).sort();
  return [...idx, ...rest];
}

describe("event codec", () => {
  it("round-trips every event kind (encode → decode gives the validated events)", () => {
    fc.assert(
      fc.property(events, (evs) => {
        const valid = evs.map((e, i) => validateEvent(e, `events[${i}]`));
        const decoded = decodeEvents(encodeEvents(valid), { validate: true });
        expect(decoded).toEqual(valid);
      }),
      { numRuns: 300 },
    );
  });

  it("is canonical: the same content in any key order encodes to the same bytes", () => {
    fc.assert(
      fc.property(events, (evs) => {
        const a = encodeEvents(evs.map((e) => validateEvent(e)));
        const b = encodeEvents(evs.map((e) => validateEvent(reorder(e))));
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        // Re-encoding what was decoded reproduces the bytes exactly.
        expect(Buffer.from(encodeEvents(decodeEvents(a))).equals(Buffer.from(a))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("encodes only the schema's members, in canonical order, whatever the event object's layout (property)", () => {
    fc.assert(
      fc.property(events, (evs) => {
        const valid = evs.map((e) => validateEvent(e));
        const a = Buffer.from(encodeEvents(valid));
        // Top-level keys reversed, a member outside the schema, an undefined member: the same bytes.
        const variants = [
          valid.map((e) => Object.fromEntries(Object.entries(e).reverse()) as unknown as Event),
          valid.map((e) => ({ ...e, extra: 1 }) as unknown as Event),
          valid.map((e) => ({ zzz: undefined, ...e }) as unknown as Event),
        ];
        for (const v of variants) expect(Buffer.from(encodeEvents(v)).equals(a)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips the JSON form (CLI and HTTP input)", () => {
    fc.assert(
      fc.property(events, (evs) => {
        for (const e of evs) {
          const valid = validateEvent(e);
          expect(eventFromJson(JSON.parse(JSON.stringify(eventToJson(valid))))).toEqual(valid);
        }
      }),
      { numRuns: Number(process.env.CODEC_RUNS ?? 200) },
    );
  });

  it("refuses invalid events with the failing field's path", () => {
    const bad = (input: unknown) => {
      try {
        eventFromJson(input, "line 3");
      } catch (err) {
        expect(err).toBeInstanceOf(RemError);
        return (err as RemError).details.path;
      }
      throw new Error("accepted an invalid event");
    };
    expect(bad({ type: "entity.upserted", entity_id: "nope", schema: "a", data: {} })).toBe("line 3.entity_id");
    expect(bad({ type: "entity.upserted", entity_id: "0b1a3c4d-0000-4000-8000-000000000000", schema: "a", data: { x: { y: [1, Infinity] } } })).toBe("line 3.data.x.y[1]");
    expect(bad({ type: "entity.exploded" })).toBe("line 3.type");
    expect(bad({ type: "edge.added", src: "0b1a3c4d-0000-4000-8000-000000000000", dst: "0b1a3c4d-0000-4000-8000-000000000000", edge_type: "has space" })).toBe("line 3.edge_type");
    expect(bad({ type: "embedding.recorded", entity_id: "0b1a3c4d-0000-4000-8000-000000000000", schema: "a", field: "f", model: "m", dim: 3, vector: [1, 2], text_hash: "0".repeat(32) })).toBe("line 3.vector");
    expect(bad({ type: "embedding.recorded", entity_id: "0b1a3c4d-0000-4000-8000-000000000000", schema: "a", field: "f", model: "m", dim: 2, vector: [1, 2] })).toBe("line 3.text_hash");
    expect(bad({ type: "schema.registered", name: "Bad-Name", definition: {} })).toBe("line 3.name");
    expect(bad({ type: "entity.upserted", entity_id: "0b1a3c4d-0000-4000-8000-000000000000", schema: "a", data: JSON.parse('{"__proto__": {"x": 1}}') })).toBe("line 3.data.__proto__");
  });

  it("refuses unknown event types and newer versions when decoding", () => {
    const payload = encodeEvents([validateEvent(entityEvent(1))]);
    const tampered = Buffer.from(payload).toString("latin1").replace("entity.upserted", "entity.upsorted");
    expect(() => decodeEvents(new Uint8Array(Buffer.from(tampered, "latin1")), { seq: 7 })).toThrow(/unknown event type/);
    try {
      decodeEvents(new Uint8Array(Buffer.from(tampered, "latin1")), { seq: 7 });
    } catch (err) {
      expect((err as RemError).code).toBe("REM_ERR_UNSUPPORTED_VERSION");
      expect((err as RemError).details.seq).toBe(7);
    }
  });

  it("keeps user objects canonical: keys in canonical order, -0 folded to 0", () => {
    fc.assert(
      fc.property(jsonObject, (obj) => {
        const e = validateEvent({ ...entityEvent(0), data: obj });
        if (e.type !== "entity.upserted") throw new Error("unreachable");
        expect(Object.keys(e.data)).toEqual(canonicalOrder(Object.keys(obj)));
      }),
    );
    const e = validateEvent({ ...entityEvent(0), data: { z: -0, a: 1 } });
    expect(e.type === "entity.upserted" && Object.is(e.data.z, 0)).toBe(true);
  });
});

describe("commit layout", () => {
  const { signer } = testSigner();

  it("round-trips header fields and payload, plain and encrypted", () => {
    fc.assert(
      fc.property(events, fc.boolean(), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 45 }), (evs, encrypt, seq, ts) => {
        const valid = evs.map((e) => validateEvent(e));
        const payload = encodeEvents(valid);
        const dataKey = encrypt ? testDataKey() : undefined;
        const prevHash = blake3(new Uint8Array([seq & 0xff]));
        const commitId = deriveCommitId(T, valid.map((e) => e.id));
        const built = buildCommit({ tenant: T, seq: seq as Seq, ts, prevHash, commitId, payload, count: valid.length, signer, dataKey });
        const p = parseCommit(built.bytes, seq);
        expect(p.header.seq).toBe(seq);
        expect(p.header.ts).toBe(ts);
        expect(p.header.tenant).toBe(T);
        expect(p.header.count).toBe(valid.length);
        expect(p.header.encrypted).toBe(encrypt);
        expect(Buffer.from(p.header.prevHash).equals(Buffer.from(prevHash))).toBe(true);
        expect(Buffer.from(p.header.commitId).toString("hex")).toBe(commitId);
        expect(Buffer.from(blake3(p.unsigned)).equals(Buffer.from(built.hash))).toBe(true);
        const plain = encrypt ? open(dataKey!.key, p.header.nonce, p.payload, p.headerBytes) : p.payload;
        expect(plain).not.toBeNull();
        expect(decodeEvents(plain!)).toEqual(valid);
        if (encrypt) expect(Buffer.from(p.payload).includes(Buffer.from(payload.subarray(0, 16)))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it("derives the same commit id from the same tenant and event ids", () => {
    const ids = ["a", "b"];
    expect(deriveCommitId(T, ids)).toBe(deriveCommitId(T, [...ids]));
    expect(deriveCommitId(T, ids)).not.toBe(deriveCommitId(T, ["b", "a"]));
    expect(deriveCommitId(T, ids)).toMatch(/^[0-9a-f]{32}$/);
    expect(ZERO_HASH.length).toBe(32);
  });
});
