import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantName } from "../../events/model/ids.js";
import { openTenantLog } from "../../src/node/open-log.js";
import { eventually } from "../support/eventually.js";
import { useNatsServer } from "../support/nats-fixture.js";
import { serverFixture, type ServerFixture } from "../support/server-fixture.js";

const NOTES = { title: "notes", type: "object", properties: { text: { type: "string" } }, json_schema_extra: { name: "notes", key_field: "text" } };

describe("the server on NATS JetStream", () => {
  const nats = useNatsServer();
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture({ natsUrl: nats.server.url, minSeqWaitMs: 10_000 });
    expect((await fx.call("POST", "/api/v1/schemas", { body: NOTES })).status).toBe(201);
  });
  afterAll(async () => fx?.close());

  it("serves writes and reads, and reports JetStream in /ready", async () => {
    const w = await fx.call("POST", "/api/v1/entities/notes", { body: [{ text: "a" }, { text: "b" }] });
    expect(w.status).toBe(201);
    expect((await fx.call("GET", `/api/v1/entities/${w.json.ids[1]}`)).json.text).toBe("b");
    const ready = await fx.call("GET", "/ready", { token: null, tenant: null });
    expect(ready.json).toMatchObject({ status: "ready", backend: "jetstream" });
  });

  it("sees another writer's commits: in the background, and at once with min_seq", async () => {
    const other = await openTenantLog(fx.config, tenantName("acme"), { keystore: fx.keystore, write: true });
    try {
      const id = randomUUID();
      const r = await other.append([{ type: "entity.upserted", v: 1, id: randomUUID(), entity_id: id, schema: "notes", data: { text: "from elsewhere" } }]);
      const got = await fx.call("GET", `/api/v1/entities/${id}?min_seq=${r.seq}`);
      expect(got.status).toBe(200);
      expect(got.json.text).toBe("from elsewhere");
      // Without min_seq the background catch-up gets there within a round or two.
      const id2 = randomUUID();
      await other.append([{ type: "entity.upserted", v: 1, id: randomUUID(), entity_id: id2, schema: "notes", data: { text: "later" } }]);
      const later = await eventually(() => fx.call("GET", `/api/v1/entities/${id2}`), (x) => x.status === 200, 5000);
      expect(later.json.text).toBe("later");
    } finally {
      await other.close();
    }
  });

  it("a read that cannot catch up within the bound is 504 NOT_CAUGHT_UP", async () => {
    const impatient = await serverFixture({ natsUrl: nats.server.url, minSeqWaitMs: 1, tenants: ["slow"] });
    const other = await openTenantLog(impatient.config, tenantName("slow"), { keystore: impatient.keystore, write: true });
    try {
      expect((await impatient.call("GET", "/api/v1/schemas", { tenant: "slow" })).status).toBe(200); // opens the tenant
      await impatient.server.background.stop(); // nobody catches up behind the test's back
      let seq = 0;
      for (let i = 0; i < 40; i++) {
        const evs = Array.from({ length: 100 }, (_, k) => ({ type: "schema.registered" as const, v: 1 as const, id: randomUUID(), name: `s${i}_${k}`, definition: { type: "object", json_schema_extra: { name: `s${i}_${k}` } } }));
        seq = (await other.append(evs)).seq;
      }
      const r = await impatient.call("GET", `/api/v1/schemas?min_seq=${seq}`, { tenant: "slow" });
      expect(r.status).toBe(504);
      expect(r.json.code).toBe("REM_ERR_NOT_CAUGHT_UP");
      expect(r.json.details.expectedSeq).toBe(seq);
    } finally {
      await other.close();
      await impatient.close();
    }
  });

  it("survives nats-server restarting: writes fail with 503 meanwhile, never 500, and work again after", async () => {
    await nats.server.kill();
    const during = await fx.call("POST", "/api/v1/entities/notes", { body: { text: "during the outage" } });
    expect(during.status).toBe(503);
    expect(during.json.code).toMatch(/^REM_ERR_LOG_(UNAVAILABLE|CLOSED)$/);
    const notReady = await fx.call("GET", "/ready", { token: null, tenant: null });
    expect(notReady.status).toBe(503);
    expect((await fx.call("GET", "/health", { token: null, tenant: null })).status).toBe(200);

    await nats.server.restart();
    const after = await eventually(() => fx.call("POST", "/api/v1/entities/notes", { body: { text: "after the restart" } }), (r) => r.status === 201);
    expect(after.status).toBe(201);
    expect((await fx.call("GET", `/api/v1/entities/${after.json.ids[0]}`)).json.text).toBe("after the restart");
    const ready = await eventually(() => fx.call("GET", "/ready", { token: null, tenant: null }), (r) => r.status === 200);
    expect(ready.status).toBe(200);
    // The outage's write attempt was either stored whole or not at all (no torn state), and the log verifies in order.
    const log = await fx.call("GET", "/api/v1/events?from=1&limit=1000");
    expect(log.json.commits.map((c: { seq: number }) => c.seq)).toEqual(Array.from({ length: log.json.head }, (_, i) => i + 1));
  });
});
