import { afterEach, expect, it } from "vitest";
import { insertEntities, registerSchema } from "../../src/node/writes.js";
import { searchEntities } from "../../src/query/search.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";

const NOTES = { name: "notes", type: "object", properties: { text: { type: "string" } }, key_field: "text", embedding_fields: ["text"] };

let fx: TenantFixture;
afterEach(() => fx.close());

// hnswlib writes a snapshot on a worker thread: changes must wait for it, and searches must still see them.
it("writes during an HNSW snapshot are held back, then applied: search reads its writes, and the snapshot stays consistent", async () => {
  fx = await tenantFixture();
  await registerSchema(fx.tenant, NOTES);
  await insertEntities(fx.tenant, "notes", Array.from({ length: 3000 }, (_, i) => ({ text: `note number ${i} about topic ${i % 37}` })));
  const vectors = await fx.tenant.vectors();
  const snap = vectors.snapshot();
  const late = await insertEntities(fx.tenant, "notes", [{ text: "zebra crossing tangerine" }]);
  const hits = await searchEntities(fx.tenant, { schema: "notes", text: "zebra crossing tangerine", topK: 1 });
  expect(hits.hits[0]!.id).toBe(late.ids[0]);
  await snap;
  expect(vectors.index("notes", "text")!.size).toBe(3001);
  // Reopening loads the snapshot and replays the tail: the late write is there.
  const t = await fx.reopen();
  const again = await searchEntities(t, { schema: "notes", text: "zebra crossing tangerine", topK: 1 });
  expect(again.hits[0]!.id).toBe(late.ids[0]);
  expect((await t.vectors()).openStats.source).toBe("snapshot");
});
