import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertEntities } from "../../src/node/writes.js";
import { startServer, type RemServer } from "../../src/server/server.js";
import { useNatsServer } from "../support/nats-fixture.js";
import { ADMIN, call } from "../support/server-fixture.js";
import { eventually, primaryNode, replicaNode, type PrimaryNode, type ReplicaNode } from "./replica-fixture.js";

interface Json {
  [k: string]: unknown;
}

describe("rem serve --replica", () => {
  const nats = useNatsServer();
  let primary: PrimaryNode;
  let replica: ReplicaNode;
  let server: RemServer;
  beforeAll(async () => {
    primary = await primaryNode(nats.server.url, "acme");
    replica = await replicaNode(nats.server.url, primary.publicKey, "acme");
    server = await startServer({
      config: replica.config,
      keystore: replica.keystore,
      replica: true,
      primary: "https://primary.example:8000",
      port: 0,
      adminToken: ADMIN,
      logLevel: false,
      background: { intervalMs: 100 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await replica?.close();
    await primary?.close();
  });

  it("serves the primary's writes: at once with min_seq, and on its own within a bound", async () => {
    const w = await insertEntities(primary.tenant, "notes", [{ text: "first", n: 1, tag: "a" }]);
    const r = await call(server.url, "GET", `/api/v1/entities/${w.ids[0]}?min_seq=${w.seq}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ text: "first", n: 1 });
    const w2 = await insertEntities(primary.tenant, "notes", [{ text: "second", n: 2, tag: "b" }]);
    const seen = await eventually(() => call(server.url, "GET", `/api/v1/entities/${w2.ids[0]}`), (x) => x.status === 200, 10_000);
    expect(seen.json).toMatchObject({ text: "second" });
    const q = await call(server.url, "POST", "/api/v1/query", { body: { sql: "SELECT COUNT(*) AS c FROM notes WHERE n >= 1" } });
    expect(q.status).toBe(200);
    expect(JSON.stringify(q.json)).toContain('"c":2');
  });

  it("refuses writes with a problem naming the primary", async () => {
    const r = await call(server.url, "POST", "/api/v1/entities/notes", { body: { text: "nope" } });
    expect(r.status).toBe(409);
    expect(r.contentType).toContain("application/problem+json");
    expect(r.json).toMatchObject({ code: "REM_ERR_READ_ONLY" });
    expect(JSON.stringify(r.json)).toContain("https://primary.example:8000");
    const t = await call(server.url, "POST", "/api/v1/tenants", { tenant: null, body: { name: "other" } });
    expect(t.status).toBe(409);
  });

  it("reports replication in /ready and metrics", async () => {
    await call(server.url, "GET", `/api/v1/lookup/first`); // make sure the tenant is open
    const ready = await eventually(() => call(server.url, "GET", "/ready", { token: null, tenant: null }), (x) => x.status === 200, 10_000);
    expect(ready.json).toMatchObject({ status: "ready", replica: true });
    const rep = (ready.json as { replication: Record<string, Json> }).replication.acme!;
    expect(rep).toMatchObject({ tenant: "acme", role: "replica", connected: true, following: true, lag_commits: 0 });
    const head = (await primary.tenant.log.head()).seq;
    expect((rep.position as { seq: number }).seq).toBe(head);
    // The gauge is set by the background round (every 100 ms here).
    const delay = /rem_replica_apply_delay_ms\{tenant="acme"\} \d/;
    const metrics = await eventually(() => call(server.url, "GET", "/metrics", { tenant: null }), (m) => delay.test(m.text), 10_000);
    expect(metrics.text).toMatch(delay);
  });
});
