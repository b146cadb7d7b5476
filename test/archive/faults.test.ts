import { readdir } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layout } from "../../src/config/config.js";
import { blake3, toHex } from "../../events/hash.js";
import { Archiver } from "../../replay/archive/archiver.js";
import { encodeManifest, readManifest, type Manifest } from "../../replay/archive/manifest.js";
import type { ObjectStore } from "../../replay/archive/object-store.js";
import { verifyArchive } from "../../replay/archive/verify-archive.js";
import { uploadSnapshot } from "../../replay/archive/snapshot.js";
import { signSnapshot } from "../../replay/archive/snapshot-signature.js";
import { generateSigningSeed, signerFromSeed } from "../../events/signing.js";
import { restoreFromArchive } from "../../replay/restore.js";
import { startFlakyProxy } from "../support/flaky-proxy.js";
import { testStore, useS3Server } from "../support/s3-server.js";
import { checkManifestObjects, expectRestoredEqual, populate, sourceNode, targetNode, type Node } from "./helpers.js";

const s3 = useS3Server();
let source: Node & { tenant: NonNullable<Node["tenant"]> };
let pristine: ObjectStore;
let n = 0;

beforeAll(async () => {
  source = await sourceNode("acme");
  await populate(source.tenant, 5);
  pristine = await testStore(s3.server, "pristine");
  await (await Archiver.open(source.tenant.log, pristine)).archive({ segmentBytes: 4 * 1024 });
});
afterAll(async () => {
  pristine?.close();
  await source?.close();
});

/** A copy of the pristine archive under a new prefix, to damage. */
async function copy(): Promise<{ store: ObjectStore; manifest: Manifest; url: (key: string) => string }> {
  const store = await testStore(s3.server, `copy${n++}`);
  for (const o of await pristine.list("")) await store.put(o.key, await pristine.get(o.key));
  const manifest = (await readManifest(store, source.tenant.name))!.manifest;
  return { store, manifest, url: (key) => store.url(`acme/${key}`) };
}

/** A segment in the middle of the archive with at least 3 commits. */
function middle(m: Manifest) {
  const s = m.segments.slice(1, -1).find((x) => x.last_seq - x.first_seq >= 2);
  if (s === undefined) throw new Error("no suitable segment");
  return s;
}

/** Restore and verify both fail with `code` naming `object` (and `seq`), and the target stays untouched. */
async function expectFailure(store: ObjectStore, want: { code: string; object: string; seq?: number; segment?: string; auditCode?: string }, trust = true): Promise<void> {
  const target = await targetNode(source, { trust });
  try {
    const err = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: want.code, details: { object: want.object, ...(want.seq === undefined ? {} : { seq: want.seq }), ...(want.segment === undefined ? {} : { segment: want.segment }) } });
    expect((err as Error).message).toContain(want.object);
    expect(await readdir(layout.tenants(target.dir)).catch(() => [])).toEqual([]); // no tenant, no staging leftovers
    const audit = await verifyArchive({ store, tenant: source.tenant.name, keystore: target.keystore }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(audit).toMatchObject({ code: want.auditCode ?? want.code, details: { object: want.object } });
  } finally {
    await target.close();
    store.close();
  }
}

describe("damaged archives: errors name the object and sequence; nothing is half-restored", () => {
  it("a flipped byte in a segment object", async () => {
    const { store, manifest, url } = await copy();
    const seg = middle(manifest);
    const bytes = await store.get(`acme/${seg.key}`);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await store.put(`acme/${seg.key}`, bytes);
    await expectFailure(store, { code: "REM_ERR_ARCHIVE_CORRUPT", object: url(seg.key), seq: seg.first_seq });
  });

  it("a commit altered and its frame, object hash and manifest entry all made consistent: the chain catches it", async () => {
    const { store, manifest, url } = await copy();
    const seg = middle(manifest);
    const bytes = await store.get(`acme/${seg.key}`);
    // The first frame after the 84-byte header: alter a payload byte of its commit, then re-checksum the frame.
    const len = new DataView(bytes.buffer).getUint32(84) & 0x7fffffff;
    bytes[84 + 8 + len - 70]! ^= 0x01;
    new DataView(bytes.buffer).setUint32(88, crc32(bytes.subarray(92, 92 + len), crc32(bytes.subarray(84, 88))));
    await store.put(`acme/${seg.key}`, bytes);
    const m = { ...manifest, segments: manifest.segments.map((s) => (s.key === seg.key ? { ...s, blake3: toHex(blake3(bytes)) } : s)) };
    await store.put("acme/manifest.json", encodeManifest(m));
    // Restore checks one signature per batch, so the break shows at the next commit's prev_hash;
    // verify checks every signature, so it names the altered commit itself.
    await expectFailure(store, { code: "REM_ERR_CHAIN_BROKEN", object: url(seg.key), seq: seg.first_seq + 1, auditCode: "REM_ERR_BAD_SIGNATURE" });
  });

  it("a missing segment object", async () => {
    const { store, manifest, url } = await copy();
    const seg = middle(manifest);
    await store.delete([`acme/${seg.key}`]);
    await expectFailure(store, { code: "REM_ERR_ARCHIVE_NOT_FOUND", object: url(seg.key), seq: seg.first_seq });
  });

  it("a manifest/segment mismatch (another segment's bytes under this key)", async () => {
    const { store, manifest, url } = await copy();
    const seg = middle(manifest);
    const other = manifest.segments[manifest.segments.indexOf(seg) + 1]!;
    await store.put(`acme/${seg.key}`, await store.get(`acme/${other.key}`));
    await expectFailure(store, { code: "REM_ERR_ARCHIVE_CORRUPT", object: url(seg.key), seq: seg.first_seq });
  });

  it("a gap in sequences (a segment dropped from the manifest and the bucket)", async () => {
    const { store, manifest, url } = await copy();
    const seg = middle(manifest);
    const next = manifest.segments[manifest.segments.indexOf(seg) + 1]!;
    await store.delete([`acme/${seg.key}`]);
    await store.put("acme/manifest.json", encodeManifest({ ...manifest, segments: manifest.segments.filter((s) => s !== seg) }));
    await expectFailure(store, { code: "REM_ERR_SEQ_GAP", object: url("manifest.json"), seq: seg.first_seq, segment: next.key });
  });

  it("a signature by a key the target does not trust", async () => {
    const { store, url } = await copy();
    await expectFailure(store, { code: "REM_ERR_UNKNOWN_KEY", object: url("manifest.json") }, false);
  });

  it("a forged head signature in the manifest", async () => {
    const { store, manifest, url } = await copy();
    const sig = Buffer.from(manifest.head!.signature, "base64");
    sig[0]! ^= 0x01;
    await store.put("acme/manifest.json", encodeManifest({ ...manifest, head: { ...manifest.head!, signature: sig.toString("base64") } }));
    await expectFailure(store, { code: "REM_ERR_BAD_SIGNATURE", object: url("manifest.json"), seq: manifest.head!.seq });
  });
});

describe("flaky S3 (500, 503 SlowDown, connection resets, lost answers)", () => {
  it("archives through random failures with retries, never leaving a manifest that references a missing object, and restores equal", async () => {
    const seed = Date.now() % 100_000;
    const proxy = await startFlakyProxy(s3.server.endpoint, { failureRate: 0.3, seed });
    const prefix = `flaky${seed}`;
    const direct = await testStore(s3.server, prefix);
    const flaky = await testStore(s3.server, prefix, { endpoint: proxy.endpoint, sdkMaxAttempts: 2, retry: { attempts: 12, baseDelayMs: 2, maxDelayMs: 20 } });
    const target = await targetNode(source);
    try {
      for (let run = 0; run < 3; run++) {
        await (await Archiver.open(source.tenant.log, flaky)).archive({ segmentBytes: 4 * 1024 });
        await checkManifestObjects(direct, source.tenant.name);
        await populate(source.tenant, 1, 300 + run);
      }
      await (await Archiver.open(source.tenant.log, flaky)).archive({ segmentBytes: 4 * 1024 });
      await checkManifestObjects(direct, source.tenant.name);
      const r = await restoreFromArchive({ store: flaky, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
      expect(r.seq, `seed ${seed}`).toBe((await source.tenant.log.head()).seq);
      await expectRestoredEqual(target, source);
      expect(proxy.stats["500"] + proxy.stats["503"] + proxy.stats.reset + proxy.stats["lost-answer"], JSON.stringify(proxy.stats)).toBeGreaterThan(10);
    } finally {
      await target.close();
      direct.close();
      flaky.close();
      await proxy.close();
    }
  });

  it("without any retry, every failed run leaves a consistent archive and the next run resumes", async () => {
    const seed = (Date.now() + 7) % 100_000;
    const proxy = await startFlakyProxy(s3.server.endpoint, { failureRate: 0.15, seed });
    const prefix = `noretry${seed}`;
    const direct = await testStore(s3.server, prefix);
    const flaky = await testStore(s3.server, prefix, { endpoint: proxy.endpoint, sdkMaxAttempts: 1, retry: { attempts: 1 } });
    const target = await targetNode(source);
    try {
      let failures = 0;
      let done = false;
      for (let attempt = 0; attempt < 200 && !done; attempt++) {
        try {
          await (await Archiver.open(source.tenant.log, flaky)).archive({ segmentBytes: 2 * 1024 });
          done = true;
        } catch (err) {
          expect((err as { code?: string }).code, String(err)).toMatch(/^REM_ERR_ARCHIVE_(UNAVAILABLE|CONFLICT)$/);
          failures++;
        }
        await checkManifestObjects(direct, source.tenant.name);
      }
      expect(done, `seed ${seed}`).toBe(true);
      expect(failures, `seed ${seed}`).toBeGreaterThan(0);
      const r = await restoreFromArchive({ store: direct, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
      expect(r.seq).toBe((await source.tenant.log.head()).seq);
    } finally {
      await target.close();
      direct.close();
      flaky.close();
      await proxy.close();
    }
  });
});

describe("projection snapshots are signed: a restore loads only a snapshot signed by a trusted key", () => {
  /** A copy of the pristine archive plus a signed snapshot of the source's projections at the archived head. */
  async function withSnapshot() {
    const c = await copy();
    await source.tenant.sync();
    await (await source.tenant.vectors()).snapshot();
    // Other tests may have written since the pristine archive: archive up to the checkpoint first.
    const archiver = await Archiver.open(source.tenant.log, c.store);
    await archiver.archive({ segmentBytes: 4 * 1024 });
    const summary = await uploadSnapshot({
      archiver,
      projections: source.tenant.store,
      vectorsDir: layout.vectors(source.dir, source.tenant.name),
      signer: await source.keystore.signer(),
    });
    const manifest = (await readManifest(c.store, source.tenant.name))!.manifest;
    return { ...c, manifest, snap: manifest.snapshots.find((s) => s.seq === summary.seq)! };
  }

  it("a genuine snapshot verifies and is used", async () => {
    const { store, snap } = await withSnapshot();
    const target = await targetNode(source);
    try {
      expect(snap.key_id).toBe((await source.keystore.signer()).keyId);
      const audit = await verifyArchive({ store, tenant: source.tenant.name, keystore: target.keystore });
      expect(audit.snapshots.map((s) => s.seq)).toEqual([snap.seq]);
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore });
      expect(r.snapshot_used).toBe(snap.seq);
    } finally {
      await target.close();
      store.close();
    }
  });

  it("a store dump with a planted record, its object hash and manifest entry made consistent: the signature catches it", async () => {
    const { store, manifest, snap, url } = await withSnapshot();
    const part = snap.objects.find((x) => x.key.includes("/store.kv."))!;
    const planted = Buffer.from("entities\0planted-record");
    const head = Buffer.alloc(8);
    head.writeUInt32BE(planted.length, 0);
    head.writeUInt32BE(planted.length, 4);
    const bytes = Buffer.concat([await store.get(`acme/${part.key}`), head, planted, planted]);
    await store.put(`acme/${part.key}`, bytes);
    const objects = snap.objects.map((x) => (x === part ? { ...x, bytes: bytes.length, blake3: toHex(blake3(bytes)) } : x));
    await store.put("acme/manifest.json", encodeManifest({ ...manifest, snapshots: manifest.snapshots.map((s) => (s === snap ? { ...s, objects } : s)) }));
    await expectFailure(store, { code: "REM_ERR_BAD_SIGNATURE", object: url("manifest.json"), seq: snap.seq });
  });

  it("an unsigned snapshot entry is refused; --no-snapshot restores from the log instead", async () => {
    const { store, manifest, snap, url } = await withSnapshot();
    const { key_id: _k, signature: _s, ...unsigned } = snap;
    await store.put("acme/manifest.json", encodeManifest({ ...manifest, snapshots: manifest.snapshots.map((s) => (s === snap ? unsigned : s)) }));
    const target = await targetNode(source);
    try {
      const err = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, dryRun: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "REM_ERR_BAD_SIGNATURE", details: { object: url("manifest.json"), seq: snap.seq } });
      expect((err as Error).message).toContain("--no-snapshot");
      const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, useSnapshot: false });
      expect(r).toMatchObject({ restored: true, snapshot_used: null });
      await expectRestoredEqual(target, source);
    } finally {
      await target.close();
      store.close();
    }
  });

  it("a snapshot signed by a key the target does not trust", async () => {
    const { store, manifest, snap, url } = await withSnapshot();
    const stranger = signerFromSeed(generateSigningSeed().seed);
    const resigned = { ...snap, ...signSnapshot(source.tenant.name, snap, stranger) };
    await store.put("acme/manifest.json", encodeManifest({ ...manifest, snapshots: manifest.snapshots.map((s) => (s === snap ? resigned : s)) }));
    await expectFailure(store, { code: "REM_ERR_UNKNOWN_KEY", object: url("manifest.json"), seq: snap.seq });
  });
});
