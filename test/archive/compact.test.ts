import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemError } from "../../src/errors.js";
import type { Seq } from "../../events/model/ids.js";
import { ArchiveBackend } from "../../replay/archive/archive-backend.js";
import { Archiver } from "../../replay/archive/archiver.js";
import { DEFAULT_RETIRE_GRACE_MS, FOLLOW_COMPACT_SEGMENTS, planRuns } from "../../replay/archive/compact.js";
import { readManifest, segmentKey, type ManifestSegment } from "../../replay/archive/manifest.js";
import type { ObjectStore } from "../../replay/archive/object-store.js";
import { verifyArchive } from "../../replay/archive/verify-archive.js";
import { restoreFromArchive } from "../../replay/restore.js";
import { eventually } from "../support/eventually.js";
import { testStore, useS3Server } from "../support/s3-server.js";
import { checkManifestObjects, expectRestoredEqual, populate, sourceNode, targetNode, type Node } from "./helpers.js";

const s3 = useS3Server();
let source: Node & { tenant: NonNullable<Node["tenant"]> };
let n = 0;
const fresh = () => testStore(s3.server, `compact${n++}`);

beforeAll(async () => {
  source = await sourceNode("acme");
  await populate(source.tenant, 8);
});
afterAll(async () => {
  await source?.close();
});

/** Restores the archive into a fresh node and checks it equals the source; verify passes too. */
async function expectRestoresEqual(store: ObjectStore): Promise<void> {
  const target = await targetNode(source);
  try {
    await verifyArchive({ store, tenant: source.tenant.name, keystore: target.keystore });
    const r = await restoreFromArchive({ store, tenant: source.tenant.name, dataDir: target.dir, keystore: target.keystore, useSnapshot: false });
    expect(r).toMatchObject({ restored: true, seq: (await source.tenant.log.head()).seq });
    await expectRestoredEqual(target, source);
  } finally {
    await target.close();
  }
}

const segmentKeys = async (store: ObjectStore) => (await store.list("acme/segments/")).map((o) => o.key.slice("acme/".length)).sort();

describe("planRuns", () => {
  it("merges only consecutive small segments, within the target size, in runs of at least minSegments (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 100, max: 5000 }), { maxLength: 60 }), fc.integer({ min: 2000, max: 8000 }), fc.integer({ min: 2, max: 6 }), (sizes, target, min) => {
        let seq = 1;
        const segs: ManifestSegment[] = sizes.map((bytes) => {
          const s = { key: segmentKey(seq, seq), first_seq: seq, last_seq: seq, bytes, blake3: "0".repeat(64), first_prev_hash: "0".repeat(64), last_hash: "0".repeat(64), first_ts: 0, last_ts: 0 };
          seq++;
          return s;
        });
        const runs = planRuns(segs, target, min);
        let lastEnd = -1;
        for (const run of runs) {
          expect(run.length).toBeGreaterThanOrEqual(min);
          expect(run.reduce((a, s) => a + s.bytes, 0)).toBeLessThanOrEqual(target);
          for (const s of run) expect(s.bytes).toBeLessThan(target / 2);
          const at = segs.indexOf(run[0]!);
          expect(at).toBeGreaterThan(lastEnd);
          expect(segs.slice(at, at + run.length)).toEqual(run); // consecutive
          lastEnd = at + run.length - 1;
        }
      }),
    );
  });
});

describe("archive compaction", () => {
  it("merges small segments into few objects; restores stay equal; replaced objects go after the grace period", async () => {
    const store = await fresh();
    try {
      const archiver = await Archiver.open(source.tenant.log, store);
      await archiver.archive({ segmentBytes: 1024 });
      const before = archiver.manifest.segments.length;
      expect(before).toBeGreaterThan(8);
      const oldManifest = archiver.manifest;

      const merges: number[] = [];
      const summary = await archiver.compact({ segmentBytes: 256 * 1024, onMerge: (e) => merges.push(e.replaced) });
      expect(summary.segments_before).toBe(before);
      expect(summary.segments_after).toBeLessThan(before / 2);
      expect(summary.merged).toBe(merges.length);
      expect(summary.retired).toBe(merges.reduce((a, b) => a + b, 0));
      expect(summary.segments_after).toBe(before - summary.retired + summary.merged);
      await checkManifestObjects(store, source.tenant.name);
      const m = (await readManifest(store, source.tenant.name))!.manifest;
      expect(m.head).toEqual(oldManifest.head);
      expect(m.retired?.length).toBe(summary.retired);

      // A reader that loaded the previous manifest still finds every object it lists (the grace period).
      const stale = new ArchiveBackend({ store, tenant: source.tenant.name, manifest: oldManifest });
      let commits = 0;
      for await (const batch of stale.read(1 as Seq)) commits += batch.length;
      expect(commits).toBe(oldManifest.head!.seq);
      await expectRestoresEqual(store);

      // Within the grace period nothing is deleted; after it, exactly the retired objects are.
      expect((await archiver.compact({ segmentBytes: 256 * 1024 })).deleted).toBe(0);
      const later = await archiver.compact({ segmentBytes: 256 * 1024, now: () => Date.now() + DEFAULT_RETIRE_GRACE_MS + 1000 });
      expect(later.deleted).toBe(summary.retired);
      const after = (await readManifest(store, source.tenant.name))!.manifest;
      expect(after.retired).toBeUndefined();
      expect(await segmentKeys(store)).toEqual(after.segments.map((s) => s.key).sort());
      await expectRestoresEqual(store);

      // Nothing left to merge: a new run changes nothing.
      expect(await archiver.compact({ segmentBytes: 256 * 1024 })).toMatchObject({ merged: 0, deleted: 0, segments_after: after.segments.length });
    } finally {
      store.close();
    }
  });

  it("a compaction interrupted at any store request leaves a consistent archive, and the next run finishes it (property)", async () => {
    const base = await fresh();
    try {
      await (await Archiver.open(source.tenant.log, base)).archive({ segmentBytes: 1024 });
      const pristine = await base.list("");
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 40 }), async (failAt) => {
          const store = await fresh();
          try {
            for (const o of pristine) await store.put(o.key, await base.get(o.key));
            const failing = failAfter(store, failAt);
            const interrupted = await Archiver.open(source.tenant.log, failing.store).then((a) => a.compact({ segmentBytes: 256 * 1024, graceMs: 0 })).then(
              () => null,
              (e: unknown) => e,
            );
            if (interrupted !== null) expect(interrupted).toMatchObject({ message: "injected failure" });
            await checkManifestObjects(store, source.tenant.name);
            const finish = await Archiver.open(source.tenant.log, store);
            await finish.compact({ segmentBytes: 256 * 1024, graceMs: 0 });
            await finish.compact({ segmentBytes: 256 * 1024, graceMs: 0 }); // deletes what the last merge retired
            const m = finish.manifest;
            expect(m.retired).toBeUndefined();
            expect(await segmentKeys(store)).toEqual(m.segments.map((s) => s.key).sort());
            expect(m.segments.length).toBeLessThan(pristine.length / 2);
            const backend = new ArchiveBackend({ store, tenant: source.tenant.name, manifest: m });
            let commits = 0;
            for await (const batch of backend.read(1 as Seq)) commits += batch.length;
            expect(commits).toBe(m.head!.seq);
          } finally {
            store.close();
          }
        }),
        { numRuns: 8 },
      );
      await expectRestoresEqual(base);
    } finally {
      base.close();
    }
  });

  it("--follow merges small segments as they accumulate", async () => {
    const store = await fresh();
    const stop = new AbortController();
    const archiver = await Archiver.open(source.tenant.log, store);
    await archiver.archive({ segmentBytes: 4 * 1024 * 1024 });
    const merged: number[] = [];
    const running = archiver.follow({ signal: stop.signal, maxDelayMs: 20, segmentBytes: 4 * 1024 * 1024, onMerge: (e) => merged.push(e.replaced) });
    try {
      for (let r = 0; r < FOLLOW_COMPACT_SEGMENTS + 2; r++) {
        await populate(source.tenant, 1, 100 + r);
        const head = (await source.tenant.log.head()).seq;
        expect(await eventually(() => archiver.manifest.head?.seq, (v) => v === head)).toBe(head);
      }
      expect(await eventually(() => merged.length, (v) => v > 0)).toBeGreaterThan(0);
      expect(merged[0]).toBeGreaterThanOrEqual(FOLLOW_COMPACT_SEGMENTS);
    } finally {
      stop.abort();
      await running;
    }
    expect(archiver.manifest.segments.length).toBeLessThan(FOLLOW_COMPACT_SEGMENTS);
    await checkManifestObjects(store, source.tenant.name);
    await source.tenant.sync();
    await expectRestoresEqual(store);
    store.close();
  });
});

/** A store whose request number `k` (put, get, head, list, delete; counted from 0) and every later one fail. */
function failAfter(inner: ObjectStore, k: number): { store: ObjectStore } {
  let count = 0;
  const gate = <T>(op: () => Promise<T>): Promise<T> => (count++ >= k ? Promise.reject(new RemError("REM_ERR_ARCHIVE_UNAVAILABLE", "injected failure")) : op());
  return {
    store: {
      location: inner.location,
      url: (key) => inner.url(key),
      put: (key, body, options) => gate(() => inner.put(key, body, options)),
      get: (key) => gate(() => inner.get(key)),
      head: (key) => gate(() => inner.head(key)),
      list: (prefix) => gate(() => inner.list(prefix)),
      delete: (keys) => gate(() => inner.delete(keys)),
      close: () => undefined,
    },
  };
}
