import { afterEach, describe, expect, it } from "vitest";
import { isRemError } from "../../src/errors.js";
import { addEdge, deleteEntity, insertEntities } from "../../src/node/writes.js";
import type { Tenant } from "../../src/node/tenant.js";
import { Follower } from "../../replay/replica/follower.js";
import { useNatsServer } from "../support/nats-fixture.js";
import { dumpStore } from "../support/store-dump.js";
import { eventually, primaryNode, replicaNode, type PrimaryNode, type ReplicaNode } from "./replica-fixture.js";

/** Writes through the primary, retrying while NATS is away (a retry of the same objects is an upsert). */
async function write(t: Tenant, writer: number, i: number): Promise<void> {
  for (;;) {
    try {
      const r = await insertEntities(t, "notes", [0, 1, 2].map((k) => ({ text: `w${writer}-${i}-${k}`, n: i * 3 + k, tag: `t${(i + k) % 5}` })));
      if (i % 4 === 3) await deleteEntity(t, r.ids[0]!);
      if (i % 3 === 0) await addEdge(t, r.ids[1]!, r.ids[2]!, "next", { writer });
      return;
    } catch (err) {
      if (!isRemError(err) || !["REM_ERR_LOG_UNAVAILABLE", "REM_ERR_LOG_CLOSED"].includes(err.code)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("a replica following a tenant's JetStream stream", () => {
  const nats = useNatsServer();
  let primary: PrimaryNode | undefined;
  let replica: ReplicaNode | undefined;
  afterEach(async () => {
    await replica?.close();
    await primary?.close();
    replica = primary = undefined;
  });

  it("converges to the primary under concurrent writers, applying every commit exactly once", async () => {
    primary = await primaryNode(nats.server.url, "conc");
    replica = await replicaNode(nats.server.url, primary.publicKey, "conc");
    const r = await replica.open();
    const follower = new Follower(r, { source: null, headEveryMs: 100 }).start();
    await Promise.all([0, 1, 2, 3].map(async (w) => {
      for (let i = 0; i < 25; i++) await write(primary!.tenant, w, i);
    }));
    const head = (await primary.tenant.log.head()).seq;
    await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s >= head);
    expect(r.store.checkpoint?.seq).toBe(head);
    expect(r.store.checkpoint?.hash).toEqual(primary.tenant.store.checkpoint?.hash);
    expect(await dumpStore(r.store)).toEqual(await dumpStore(primary.tenant.store));
    const s = follower.status();
    expect(s.applied_commits).toBe(head); // from an empty replica: every commit once, none twice
    expect(s).toMatchObject({ lag_commits: 0, lag_ms: 0, following: true, last_error: null, connected: true, position: { seq: head } });
    expect(s.apply_delay_ms).not.toBeNull();
    await follower.stop();
    expect(follower.status().following).toBe(false);
  });

  it("rides out a nats-server kill and restart while following: no gaps, no duplicates", async () => {
    primary = await primaryNode(nats.server.url, "restart");
    replica = await replicaNode(nats.server.url, primary.publicKey, "restart");
    for (let i = 0; i < 10; i++) await write(primary.tenant, 0, i);
    const r = await replica.open();
    const follower = new Follower(r, { source: null, headEveryMs: 100, retryMaxMs: 500 }).start();
    const writing = (async () => {
      for (let i = 10; i < 60; i++) await write(primary!.tenant, 0, i);
    })();
    await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s > 12);
    await nats.server.kill();
    await eventually(() => follower.status().connected, (c) => !c, 10_000);
    expect(follower.status().connected).toBe(false);
    await new Promise((res) => setTimeout(res, 300));
    await nats.server.restart();
    await writing;
    const head = (await primary.tenant.log.head()).seq;
    await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s >= head, 60_000);
    expect(r.store.checkpoint?.seq).toBe(head);
    expect(await dumpStore(r.store)).toEqual(await dumpStore(primary.tenant.store));
    // The chain is anchored at the replica's checkpoint: a commit applied twice or skipped would have failed it.
    const s = follower.status();
    expect(s.applied_commits).toBe(head);
    expect(s.connected).toBe(true);
    await follower.stop();
  });

  it("resumes from its own checkpoint after being stopped, applying only what is new", async () => {
    primary = await primaryNode(nats.server.url, "resume");
    replica = await replicaNode(nats.server.url, primary.publicKey, "resume");
    for (let i = 0; i < 5; i++) await write(primary.tenant, 0, i);
    let r = await replica.open();
    await r.sync((await primary.tenant.log.head()).seq);
    const at = r.store.checkpoint!.seq;
    await r.close();
    for (let i = 5; i < 10; i++) await write(primary.tenant, 0, i);
    r = await replica.open();
    expect(r.store.checkpoint?.seq).toBe(at);
    const follower = new Follower(r, { source: null }).start();
    const head = (await primary.tenant.log.head()).seq;
    await eventually(() => r.store.checkpoint?.seq ?? 0, (s) => s >= head);
    expect(follower.status().applied_commits).toBe(head - at);
    expect(await dumpStore(r.store)).toEqual(await dumpStore(primary.tenant.store));
  });

  it("refuses commits signed by a key it does not trust, applies nothing, and says why", async () => {
    primary = await primaryNode(nats.server.url, "untrusted");
    replica = await replicaNode(nats.server.url, null, "untrusted");
    const r = await replica.open();
    const follower = new Follower(r, { source: null, retryMinMs: 50, retryMaxMs: 100 }).start();
    const s = await eventually(() => follower.status(), (st) => st.last_error !== null, 10_000);
    expect(s.last_error?.code).toBe("REM_ERR_UNKNOWN_KEY");
    expect(r.store.checkpoint).toBeNull();
    // A reader waiting for the head gets the same error instead of hanging.
    await expect(r.sync(1)).rejects.toMatchObject({ code: "REM_ERR_UNKNOWN_KEY" });
    await follower.stop();
  });
});
