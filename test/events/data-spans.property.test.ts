import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { dataSpans } from "../../events/codec/data-spans.js";
import { skip } from "../../events/codec/msgpack-skip.js";
import { decodeEventsWithData, encodeEvents } from "../../events/codec/events-codec.js";
import { validateEvent } from "../../events/model/validate.js";
import { pack, unpack } from "../../projections/store/records.js";
import { events, jsonValue } from "../support/arbitraries.js";

/** MessagePack beyond what REM writes: bin, ext (a Date), float32, 64-bit ints, maps with non-string keys. */
const wide = new Packr({ useRecords: false, variableMapSize: true, useFloat32: 1, mapsAsObjects: false, moreTypes: true, largeBigIntToFloat: true });
const anyValue = fc.oneof(jsonValue, fc.anything({ withBigInt: true, withDate: true, withMap: true, withTypedArray: true, withNullPrototype: false }));

describe("dataSpans: the bytes of each event's data, found without decoding", () => {
  it("gives each upsert's data exactly as msgpackr encodes the decoded object (property)", () => {
    fc.assert(
      fc.property(events, (evs) => {
        const valid = evs.map((e, i) => validateEvent(e, `events[${i}]`));
        const payload = encodeEvents(valid);
        const { events: decoded, data } = decodeEventsWithData(payload);
        expect(decoded).toEqual(valid);
        for (let i = 0; i < valid.length; i++) {
          const e = valid[i]!;
          if (e.type !== "entity.upserted") {
            expect(data[i]).toBeUndefined();
            continue;
          }
          expect(Buffer.from(data[i]!).equals(Buffer.from(pack(e.data)))).toBe(true);
          expect(unpack(data[i]!)).toEqual(e.data);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("skips any MessagePack value exactly, and refuses every truncation of it (property)", () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = wide.pack(v);
        } catch {
          return; // a value msgpackr itself cannot write
        }
        expect(skip(bytes, 0)).toBe(bytes.length);
        for (let cut = 0; cut < bytes.length; cut++) expect(skip(bytes.subarray(0, cut), 0)).toBe(-1);
      }),
      { numRuns: 500 },
    );
  });

  it("finds data in a foreign but valid layout (str8 key, repeated key) and rejects a malformed payload", () => {
    // [{ "data" as str8: 1, data: {"a": 2} }]: the decoder keeps the last value, so must the spans.
    const payload = Buffer.from([0x91, 0x82, 0xd9, 4, ...Buffer.from("data"), 0x01, 0xa4, ...Buffer.from("data"), 0x81, 0xa1, 0x61, 0x02]);
    const spans = dataSpans(payload)!;
    expect(unpack(payload.subarray(spans[0]![0], spans[0]![1]))).toEqual({ a: 2 });
    expect(dataSpans(payload.subarray(0, payload.length - 1))).toBeNull();
    expect(dataSpans(Buffer.concat([payload, Buffer.from([0xc0])]))).toBeNull(); // trailing bytes
    expect(dataSpans(Buffer.from([0x91, 0x01]))).toBeNull(); // an event that is not a map
    expect(dataSpans(Buffer.from([0x91, 0x81, 0xa4, ...Buffer.from("data"), 0xc1]))).toBeNull(); // the reserved byte
  });
});
