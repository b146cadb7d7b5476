import { readdir } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { layout } from "../../src/config/config.js";
import { readTenantMeta } from "../../src/node/tenant-meta.js";
import { Archiver, type UploadEvent } from "../../replay/archive/archiver.js";
import { readManifest } from "../../replay/archive/manifest.js";
import type { ObjectStore } from "../../replay/archive/object-store.js";
import { verifyArchive } from "../../replay/archive/verify-archive.js";
import { restoreFromArchive } from "../../replay/restore.js";
import { testStore, useS3Server } from "../support/s3-server.js";
import { checkManifestObjects, dumpStore, openRestored, populate, sourceNode, targetNode, type Node } from "./helpers.js";

const s3 = useS3Server();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function waitForArchivedHead(store: ObjectStore, node: Node & { tenant: NonNullable<Node["tenant"]> }, timeoutMs = 10_000): Promise<number> {
  const want = (await node.tenant.log.head()).seq;
  const started = Date.now();
  for (;;) {
    // s3rver writes an object's file in place, so a GET racing the archiver's PUT can read half a
    // manifest (S3 itself replaces objects atomically): poll again rather than fail.
    const m = await readManifest(store, node.tenant.name).catch((err: unknown) => {
      if ((err as { code?: string }).code === "REM_ERR_ARCHIVE_CORRUPT") return null;
      throw err;
    });
    if ((m?.manifest.head?.seq ?? 0) >= want) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`archive did not reach commit ${want}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("rem archive --follow", () => {
  it("uploads new commits within the bounded delay, as small segments, and flushes what is buffered on stop", async () => {
    const source = await sourceNode("follow");
    cleanups.push(() => source.close());
    const store = await testStore(s3.server, "follow");
    cleanups.push(async () => store.close());
    const archiver = await Archiver.open(source.tenant.log, store);
    const stop = new AbortController();
    const uploads: UploadEvent[] = [];
    const running = archiver.follow({ signal: stop.signal, maxDelayMs: 200, segmentBytes: 1024 * 1024, onUpload: (e) => uploads.push(e) });
    await waitForArchivedHead(store, source); // the genesis commit
    await populate(source.tenant, 2);
    const lag = await waitForArchivedHead(store, source);
    expect(lag).toBeLessThan(5000); // 200 ms delay bound plus upload time, with slack for a loaded machine
    await populate(source.tenant, 1, 50);
    await waitForArchivedHead(store, source);
    // Commits that arrive right before the stop are uploaded by the stop, not lost.
    await populate(source.tenant, 1, 60);
    stop.abort();
    const summary = await running;
    const head = await source.tenant.log.head();
    expect(summary).toMatchObject({ head_seq: head.seq, head_hash: head.hash, commits: head.seq });
    expect(uploads.length).toBeGreaterThanOrEqual(3);
    expect(uploads.map((u) => u.first_seq)).toEqual(uploads.map((_, i) => (i === 0 ? 1 : uploads[i - 1]!.last_seq + 1)));
    await checkManifestObjects(store, source.tenant.name);

    const target = await targetNode(source);
    cleanups.push(() => target.close());
    const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
    expect(r.seq).toBe(head.seq);
    const restored = await openRestored(target, source.tenant.name);
    try {
      expect(await dumpStore(restored.store)).toEqual(await dumpStore(source.tenant.store));
    } finally {
      await restored.close();
    }
  });
});

describe("encrypted tenants", () => {
  it("archive ciphertext; restore needs the tenant's data keys (a copy of the keystore)", async () => {
    const source = await sourceNode("vault", { encrypt: true });
    cleanups.push(() => source.close());
    const ids = await populate(source.tenant, 3);
    const store = await testStore(s3.server, "enc");
    cleanups.push(async () => store.close());
    await (await Archiver.open(source.tenant.log, store)).archive({ segmentBytes: 8 * 1024 });
    const manifest = (await readManifest(store, source.tenant.name))!.manifest;
    expect(manifest.encrypted).toBe(true);
    // No plaintext in the bucket.
    for (const o of await store.list("vault/segments/")) expect(Buffer.from(await store.get(o.key)).includes("doc://0/0")).toBe(false);

    // Without the data keys: the chain and signatures verify, a restore fails cleanly.
    const keyless = await targetNode(source);
    cleanups.push(() => keyless.close());
    expect(await verifyArchive({ store, tenant: source.tenant.name, keystore: keyless.keystore, decrypt: false })).toMatchObject({ ok: true, decrypted: false, encrypted_commits: manifest.head!.seq });
    await expect(restoreFromArchive({ store, tenant: source.tenant.name, dataDir: keyless.dir, keystore: keyless.keystore })).rejects.toMatchObject({ code: "REM_ERR_KEY_NOT_FOUND" });
    expect(await readdir(layout.tenants(keyless.dir)).catch(() => [])).toEqual([]);

    // With a copy of the source keystore (data keys included).
    const target = await targetNode(source, { copyKeys: true });
    cleanups.push(() => target.close());
    expect(await verifyArchive({ store, tenant: source.tenant.name, keystore: target.keystore })).toMatchObject({ ok: true, decrypted: true });
    const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
    expect(r).toMatchObject({ restored: true, encrypted: true });
    expect(await readTenantMeta(target.dir, source.tenant.name)).toMatchObject({ encrypted: true, backend: "file" });
    const restored = await openRestored(target, source.tenant.name);
    try {
      expect(await dumpStore(restored.store)).toEqual(await dumpStore(source.tenant.store));
      // The record holds the decrypted payload's bytes of `data` (not a view of ciphertext): read it back.
      expect(restored.store.getEntity(ids[0]!)?.data).toEqual({ uri: "doc://0/0", content: expect.stringContaining("note 0.0"), category: "a", n: 0 });
    } finally {
      await restored.close();
    }
  });
});
