import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layout, resolveConfig } from "../../src/config/config.js";
import type { Seq } from "../../events/model/ids.js";
import { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import type { RawCommit } from "../../events/log/types.js";
import { readTenantMeta } from "../../src/node/tenant-meta.js";
import { Tenant } from "../../src/node/tenant.js";
import { Archiver } from "../../replay/archive/archiver.js";
import type { ObjectStore } from "../../replay/archive/object-store.js";
import { restoreFromArchive } from "../../replay/restore.js";
import { useNatsServer } from "../support/nats-fixture.js";
import { testStore, useS3Server } from "../support/s3-server.js";
import { Follower } from "../../replay/replica/follower.js";
import { eventually, replicaNode } from "../replica/replica-fixture.js";
import { dumpStore, populate, searches, sourceNode, targetNode, type Node } from "./helpers.js";

const s3 = useS3Server();
const nats = useNatsServer();
let source: Node & { tenant: NonNullable<Node["tenant"]> };
let store: ObjectStore;

beforeAll(async () => {
  source = await sourceNode("drnats");
  await populate(source.tenant, 4);
  store = await testStore(s3.server, "dr");
  await (await Archiver.open(source.tenant.log, store)).archive({ segmentBytes: 8 * 1024 });
});
afterAll(async () => {
  store?.close();
  await source?.close();
});

async function all(read: AsyncIterable<RawCommit[]>): Promise<RawCommit[]> {
  const out: RawCommit[] = [];
  for await (const b of read) out.push(...b);
  return out;
}

describe("restore --to-nats", () => {
  it("republishes every commit byte for byte into a fresh stream; the tenant then lives on JetStream with equal projections", async () => {
    const target = await targetNode(source);
    try {
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, toNats: { nc: nats.nc } });
      const head = await source.tenant.log.head();
      expect(r).toMatchObject({ restored: true, seq: head.seq, published: head.seq, target: { backend: "jetstream", stream: "REM_drnats" } });
      expect(await readTenantMeta(target.dir, source.tenant.name)).toMatchObject({ backend: "jetstream" });
      expect((await readdir(layout.tenant(target.dir, source.tenant.name))).sort()).toEqual(["projections", "tenant.json"]); // no staged file log left

      const js = await JetStreamLog.open({ nc: nats.nc, tenant: source.tenant.name, create: false });
      try {
        const original = await all(source.tenant.log.backend.read(1 as Seq));
        const republished = await all(js.read(1 as Seq));
        expect(republished.map((c) => c.seq)).toEqual(original.map((c) => c.seq));
        expect(republished.every((c, i) => Buffer.from(c.bytes).equals(original[i]!.bytes))).toBe(true);
      } finally {
        await js.close();
      }

      // A replica of the republished stream (another data dir, trusting the writer's key) converges to the original.
      const replica = await replicaNode(nats.server.url, null, source.tenant.name);
      try {
        for (const k of source.keystore.listTrusted()) await replica.keystore.trust(k.publicKey, "source");
        const rt = await replica.open();
        const follower = new Follower(rt, { source: null }).start();
        expect((await eventually(() => follower.status(), (st) => st.position.seq >= head.seq)).position.seq).toBe(head.seq);
        await follower.stop();
        expect(await dumpStore(rt.store)).toEqual(await dumpStore(source.tenant.store));
      } finally {
        await replica.close();
      }

      const config = resolveConfig({ data: target.dir, tenant: source.tenant.name, nats: nats.server.url }, {});
      const t = await Tenant.open(config, source.tenant.name, { keystore: target.keystore, write: true, nats: nats.nc });
      try {
        expect(await dumpStore(t.store)).toEqual(await dumpStore(source.tenant.store));
        expect(await searches(t)).toEqual(await searches(source.tenant));
        // The restored stream takes new writes, chained on the republished head.
        const a = await t.log.append([{ type: "edge.added", v: 1, id: "5f0e7a53-1111-4000-8000-00000000aaaa", src: "0b1a3c4d-0000-4000-8000-000000000001", dst: "0b1a3c4d-0000-4000-8000-000000000002", edge_type: "x", props: {} }]);
        expect(a.seq).toBe(head.seq + 1);
      } finally {
        await t.close();
      }

      // A second restore into that stream is refused (it holds commits), and leaves its target untouched.
      const other = await targetNode(source);
      try {
        await expect(restoreFromArchive({ store, tenant: source.tenant.name, dataDir: other.dir, keystore: other.keystore, toNats: { nc: nats.nc }, force: true })).rejects.toMatchObject({
          code: "REM_ERR_ALREADY_EXISTS",
          details: { stream: "REM_drnats" },
        });
        expect(await readdir(layout.tenants(other.dir)).catch(() => [])).toEqual([]);
      } finally {
        await other.close();
      }
    } finally {
      await target.close();
    }
  });
});
