import { readdir } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Seq } from "../../events/model/ids.js";
import { layout } from "../../src/config/config.js";
import { readTenantMeta } from "../../src/node/tenant-meta.js";
import { ProjectionRunner } from "../../projections/runner.js";
import { ProjectionStore } from "../../projections/store/store.js";
import { Archiver } from "../../replay/archive/archiver.js";
import { readManifest } from "../../replay/archive/manifest.js";
import { uploadSnapshot } from "../../replay/archive/snapshot.js";
import { verifyArchive } from "../../replay/archive/verify-archive.js";
import { restoreFromArchive } from "../../replay/restore.js";
import { useS3Server, testStore } from "../support/s3-server.js";
import { tempDir } from "../support/tmp.js";
import { checkManifestObjects, dumpStore, openRestored, populate, searches, sourceNode, targetNode, type Node } from "./helpers.js";

const s3 = useS3Server();
let source: Node & { tenant: NonNullable<Node["tenant"]> };
let prefixN = 0;
const freshPrefix = () => `run${prefixN++}`;

beforeAll(async () => {
  source = await sourceNode("acme");
  await populate(source.tenant, 8);
});
afterAll(async () => {
  await source?.close();
});

async function archiveAll(prefix: string, segmentBytes = 6 * 1024) {
  const store = await testStore(s3.server, prefix);
  const archiver = await Archiver.open(source.tenant.log, store);
  const summary = await archiver.archive({ segmentBytes });
  return { store, archiver, summary };
}

/** The projections of commits 1..k, built straight from the source log. */
async function prefixProjection(k: number): Promise<string[]> {
  const tmp = await tempDir("rem-prefix-");
  const store = await ProjectionStore.open(join(tmp.path, "store"));
  try {
    await new ProjectionRunner(store, source.tenant.log).catchUp({ until: k as Seq });
    return await dumpStore(store);
  } finally {
    await store.close();
    await tmp.cleanup();
  }
}

async function leftovers(node: Node): Promise<string[]> {
  return readdir(layout.tenants(node.dir)).catch(() => []);
}

describe("archive → restore", () => {
  it("round trip: the restored tenant equals the original (entities, indexes, edges, embeddings, HNSW search)", async () => {
    const { store, summary } = await archiveAll(freshPrefix());
    const head = await source.tenant.log.head();
    expect(summary).toMatchObject({ tenant: "acme", previous_head_seq: 0, head_seq: head.seq, head_hash: head.hash, commits: head.seq });
    expect(summary.segments_total).toBeGreaterThan(3);
    const audit = await verifyArchive({ store, tenant: source.tenant.name, keystore: source.keystore });
    expect(audit).toMatchObject({ ok: true, backend: "archive", commits: head.seq, head_seq: head.seq, head_hash: head.hash, decrypted: true, segments: summary.segments_total });

    const target = await targetNode(source);
    try {
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
      expect(r).toMatchObject({ restored: true, seq: head.seq, hash: head.hash, commits: head.seq, snapshot_used: null, encrypted: false });
      expect(await readTenantMeta(target.dir, source.tenant.name)).toMatchObject({ backend: "file", encrypted: false });
      expect(await leftovers(target)).toEqual(["acme"]);
      const restored = await openRestored(target, source.tenant.name);
      try {
        expect((await restored.log.head()).hash).toBe(head.hash);
        expect(restored.store.checkpoint?.seq).toBe(head.seq);
        expect(await dumpStore(restored.store)).toEqual(await dumpStore(source.tenant.store));
        expect(restored.loadedVectors).toBeNull();
        expect((await restored.vectors()).openStats.source).toBe("snapshot"); // restore built and snapshotted the HNSW indexes
        expect(await searches(restored)).toEqual(await searches(source.tenant));
      } finally {
        await restored.close();
      }
    } finally {
      await target.close();
      store.close();
    }
  });

  it("archives incrementally: a second run uploads only new segments and extends the manifest", async () => {
    const prefix = freshPrefix();
    const first = await archiveAll(prefix);
    const before = (await readManifest(first.store, source.tenant.name))!.manifest;
    const again = await archiveAll(prefix);
    expect(again.summary).toMatchObject({ segments_uploaded: 0, commits: 0, previous_head_seq: before.head!.seq, head_seq: before.head!.seq });
    await populate(source.tenant, 2, 100);
    const third = await archiveAll(prefix);
    const after = (await readManifest(first.store, source.tenant.name))!.manifest;
    expect(after.segments.slice(0, before.segments.length)).toEqual(before.segments);
    expect(after.segments.length).toBe(before.segments.length + third.summary.segments_uploaded);
    expect(third.summary).toMatchObject({ previous_head_seq: before.head!.seq, head_seq: (await source.tenant.log.head()).seq });
    expect(third.summary.commits).toBe(third.summary.head_seq - before.head!.seq);
    const objects = await checkManifestObjects(first.store, source.tenant.name);
    expect(objects.keys.filter((k) => k.endsWith(".seg"))).toHaveLength(after.segments.length);
    for (const s of [first, again, third]) s.store.close();
  });

  it("refuses to archive a log that does not extend the archived chain", async () => {
    const prefix = freshPrefix();
    const { store } = await archiveAll(prefix);
    const other = await sourceNode("acme");
    try {
      await expect(Archiver.open(other.tenant.log, store)).rejects.toMatchObject({ code: "REM_ERR_ARCHIVE_CONFLICT" });
    } finally {
      await other.close();
      store.close();
    }
  });

  it("point-in-time by sequence equals the projection of the log prefix (property)", async () => {
    const { store } = await archiveAll(freshPrefix());
    const head = (await source.tenant.log.head()).seq;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: head }), async (k) => {
        const target = await targetNode(source);
        try {
          const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, untilSeq: k });
          expect(r.seq).toBe(k);
          const restored = await openRestored(target, source.tenant.name);
          try {
            expect((await restored.log.head()).seq).toBe(k);
            expect(await dumpStore(restored.store)).toEqual(await prefixProjection(k));
          } finally {
            await restored.close();
          }
        } finally {
          await target.close();
        }
      }),
      { numRuns: Number(process.env.REM_PROPERTY_RUNS ?? 6) },
    );
    store.close();
  });

  it("point-in-time by time restores the longest prefix with ts ≤ the time", async () => {
    const { store } = await archiveAll(freshPrefix());
    const commits: { seq: number; ts: number }[] = [];
    for await (const b of source.tenant.log.read(1 as Seq)) for (const c of b) commits.push({ seq: c.seq, ts: c.ts });
    const pick = commits[Math.floor(commits.length / 2)]!;
    const expected = Math.max(...commits.filter((c) => c.ts <= pick.ts).map((c) => c.seq));
    const target = await targetNode(source);
    try {
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, untilTime: pick.ts });
      expect(r.seq).toBe(expected);
      expect(r.until_time).toBe(new Date(pick.ts).toISOString());
      const restored = await openRestored(target, source.tenant.name);
      try {
        expect(await dumpStore(restored.store)).toEqual(await prefixProjection(expected));
      } finally {
        await restored.close();
      }
      await expect(restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, untilTime: commits[0]!.ts - 1, force: true })).rejects.toMatchObject({
        code: "REM_ERR_INVALID_ARGUMENT",
      });
    } finally {
      await target.close();
      store.close();
    }
  });

  it("uses the newest projection snapshot at or below the target and replays only the tail", async () => {
    const prefix = freshPrefix();
    const { store, archiver } = await archiveAll(prefix);
    const vectors = await source.tenant.vectors();
    await vectors.snapshot();
    const snap = await uploadSnapshot({ archiver, projections: source.tenant.store, vectorsDir: layout.vectors(source.dir, source.tenant.name), signer: await source.keystore.signer() });
    expect(snap.seq).toBe(source.tenant.store.checkpoint!.seq);
    expect(snap.objects).toBeGreaterThan(1);
    await populate(source.tenant, 2, 200);
    await (await Archiver.open(source.tenant.log, store)).archive({ segmentBytes: 6 * 1024 });
    await checkManifestObjects(store, source.tenant.name);
    const head = await source.tenant.log.head();

    const target = await targetNode(source);
    try {
      const plan = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, dryRun: true });
      expect(plan.snapshot?.seq).toBe(snap.seq);
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
      expect(r).toMatchObject({ restored: true, seq: head.seq, snapshot_used: snap.seq });
      const restored = await openRestored(target, source.tenant.name);
      try {
        expect(await dumpStore(restored.store)).toEqual(await dumpStore(source.tenant.store));
        expect(await searches(restored)).toEqual(await searches(source.tenant));
      } finally {
        await restored.close();
      }
      // Below the snapshot: not used.
      const early = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, untilSeq: snap.seq - 1, force: true });
      expect(early.snapshot_used).toBeNull();
      const restoredEarly = await openRestored(target, source.tenant.name);
      try {
        expect(await dumpStore(restoredEarly.store)).toEqual(await prefixProjection(snap.seq - 1));
      } finally {
        await restoredEarly.close();
      }
      // --no-snapshot gives the same result from the log alone.
      const noSnap = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, useSnapshot: false, force: true });
      expect(noSnap.snapshot_used).toBeNull();
    } finally {
      await target.close();
    }

    // Retention: keep 1 → the older snapshot's objects are deleted after the manifest stops listing them.
    await source.tenant.sync();
    await vectors.snapshot();
    const second = await uploadSnapshot({ archiver: await Archiver.open(source.tenant.log, store), projections: source.tenant.store, vectorsDir: layout.vectors(source.dir, source.tenant.name), keep: 1, signer: await source.keystore.signer() });
    expect(second.deleted_snapshots).toEqual([snap.seq]);
    const { keys } = await checkManifestObjects(store, source.tenant.name);
    expect(keys.filter((k) => k.includes(`/snapshots/${String(snap.seq).padStart(20, "0")}/`))).toEqual([]);
    expect((await readManifest(store, source.tenant.name))!.manifest.snapshots.map((s) => s.seq)).toEqual([second.seq]);
    // The same checkpoint again: nothing is replaced.
    const same = await uploadSnapshot({ archiver: await Archiver.open(source.tenant.log, store), projections: source.tenant.store, vectorsDir: layout.vectors(source.dir, source.tenant.name), keep: 1, signer: await source.keystore.signer() });
    expect(same).toMatchObject({ seq: second.seq, unchanged: true, objects: 0 });
    store.close();
  });

  it("refuses an existing tenant without --force; --dry-run touches nothing; --force replaces", async () => {
    const { store } = await archiveAll(freshPrefix());
    const target = await targetNode(source);
    try {
      const plan = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, dryRun: true, untilSeq: 5 });
      expect(plan).toMatchObject({ dry_run: true, restored: false, target_seq: 5, target: { exists: false, backend: "file" } });
      expect(plan.segments).toBeGreaterThan(0);
      expect(await leftovers(target)).toEqual([]);
      await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, untilSeq: 5 });
      await expect(restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore })).rejects.toMatchObject({ code: "REM_ERR_ALREADY_EXISTS" });
      expect((await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, dryRun: true })).target.exists).toBe(true);
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, force: true });
      expect(r.seq).toBe((await source.tenant.log.head()).seq);
      expect(await leftovers(target)).toEqual(["acme"]);
      const restored = await openRestored(target, source.tenant.name);
      try {
        expect(restored.store.checkpoint?.seq).toBe(r.seq);
      } finally {
        await restored.close();
      }
    } finally {
      await target.close();
      store.close();
    }
  });
});
