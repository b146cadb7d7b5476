import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../events/model/json-value.js";
import { scanSchemaBatches, scanSchemaEncoded } from "../../projections/parquet/scan.js";
import { unpack, type EntityRecord } from "../../projections/store/records.js";
import { insertEntities, registerSchema } from "../../src/node/writes.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";

const NOTES: JsonObject = { name: "notes", type: "object", properties: { title: { type: "string" } } };
const OTHER: JsonObject = { name: "notes2", type: "object", properties: { title: { type: "string" } } };

// Ids whose first byte sits on and around the lanes' split points (the key range is split on it).
const IDS = ["00", "01", "7f", "80", "81", "aa", "fe", "ff"].flatMap((b) => [`${b}000000-0000-4000-8000-000000000000`, `${b}ffffff-ffff-4fff-bfff-ffffffffffff`]);

describe("the full-export scan", () => {
  let fx: TenantFixture;
  beforeEach(async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, NOTES);
    await registerSchema(fx.tenant, OTHER); // a schema whose key prefix extends the first one's
    await insertEntities(fx.tenant, "notes", IDS.map((id) => ({ id, title: id })));
    await insertEntities(fx.tenant, "notes2", [{ id: "80000000-0000-4000-8000-000000000001", title: "other" }]);
  });
  afterEach(() => fx.close());

  it("reads every record of the schema exactly once, whatever its id, from the split key ranges", async () => {
    const seen: string[] = [];
    for await (const batch of scanSchemaEncoded(fx.tenant.store, "notes")) for (const bytes of batch) seen.push(unpack<EntityRecord>(bytes).id);
    expect(seen.sort()).toEqual([...IDS].sort());
  });

  it("reads the same records as the ordered scan", async () => {
    const ordered: string[] = [];
    for await (const batch of scanSchemaBatches(fx.tenant.store, "notes")) for (const r of batch) ordered.push(r.id);
    expect(ordered).toEqual([...IDS].sort());
  });
});
