import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { layout } from "../src/config/config.js";
import { RemError, isRemError } from "../src/errors.js";
import type { TenantMeta } from "../src/node/tenant-meta.js";
import type { Keystore } from "../events/keys/keystore.js";
import { syncDirectory, writeFileDurable } from "../events/keys/files.js";
import { bytesEqual, toHex } from "../events/hash.js";
import type { CommitId, Seq, TenantName } from "../events/model/ids.js";
import { FileLog } from "../events/log/file/file-log.js";
import { TenantLog } from "../events/log/tenant-log.js";
import type { LogBackend } from "../events/log/types.js";
import { ProjectionRunner } from "../projections/runner.js";
import { ProjectionStore, STORE_FORMAT } from "../projections/store/store.js";
import { VectorIndexSet } from "../projections/vectors/index-set.js";
import { ArchiveBackend, annotateArchiveError } from "./archive/archive-backend.js";
import { checkHeadSignature, manifestKey, requireManifest, tenantPrefix, type Manifest, type ManifestSegment, type ManifestSnapshot } from "./archive/manifest.js";
import type { ObjectStore } from "./archive/object-store.js";
import { SegmentFileWriter } from "./archive/segment-writer.js";
import { restoreSnapshot } from "./archive/snapshot.js";
import { checkSnapshotSignature } from "./archive/snapshot-signature.js";

export type RestorePhase = "download" | "snapshot" | "projections" | "vectors" | "publish";

export interface RestoreProgress {
  readonly phase: RestorePhase;
  /** Units: bytes for download and snapshot, commits for projections and publish. */
  readonly done: number;
  readonly total: number;
}

export interface RestoreOptions {
  /** The archive root (the `s3://bucket/prefix` of `rem archive`). */
  readonly store: ObjectStore;
  readonly tenant: TenantName;
  /** The node's data directory; the tenant lands in `<dataDir>/tenants/<tenant>`. */
  readonly dataDir: string;
  /** Must trust the archive's signing keys; for an encrypted tenant, unlocked and holding its data keys. */
  readonly keystore: Keystore;
  /** Restore commits 1..untilSeq. */
  readonly untilSeq?: number | undefined;
  /** Restore the longest prefix of commits with ts ≤ untilTime (ms since the epoch). */
  readonly untilTime?: number | undefined;
  /** Also republish every commit, byte for byte, into a fresh JetStream stream there. */
  readonly toNats?: { readonly url: string } | { readonly nc: NatsConnection } | undefined;
  /** Replace an existing `<dataDir>/tenants/<tenant>` (never an existing stream). */
  readonly force?: boolean;
  /** Plan only: check the manifest and the target, touch nothing. */
  readonly dryRun?: boolean;
  /** Use the newest suitable projection snapshot (default true). */
  readonly useSnapshot?: boolean;
  /** Local segment size (default 64 MiB, as the file log). */
  readonly segmentBytes?: number;
  /** Commits in flight while republishing (default 256). */
  readonly publishWindow?: number;
  readonly onProgress?: (p: RestoreProgress) => void;
}

export interface RestorePlan {
  readonly tenant: string;
  readonly archive: string;
  readonly manifest: string;
  readonly archive_head: { seq: number; hash: string; ts: string; key_id: string };
  /** The last commit to restore, when the manifest alone determines it (with --until-time it may be resolved while reading). */
  readonly target_seq: number | null;
  /** The last commit that may be restored. */
  readonly target_seq_max: number;
  readonly until_time: string | null;
  readonly segments: number;
  readonly bytes: number;
  readonly first_object: string | null;
  readonly last_object: string | null;
  readonly snapshot: { seq: number; objects: number; bytes: number } | null;
  readonly target: {
    readonly data_dir: string;
    readonly tenant_dir: string;
    readonly exists: boolean;
    readonly replace: boolean;
    readonly backend: "file" | "jetstream";
    readonly stream: string | null;
  };
}

export interface RestoreResult extends RestorePlan {
  readonly dry_run: boolean;
  readonly restored: boolean;
  readonly seq: number;
  readonly hash: string | null;
  readonly commits: number;
  readonly events: number;
  readonly encrypted: boolean;
  readonly snapshot_used: number | null;
  readonly published: number;
  readonly seconds: { readonly total: number; readonly download: number; readonly snapshot: number; readonly projections: number; readonly vectors: number; readonly publish: number };
}

/**
 * Restores a tenant from an archive into `<dataDir>/tenants/<tenant>`:
 *
 * 1. reads the manifest and checks its signed head against the keystore;
 * 2. downloads the segments up to the target, checking each object (size,
 *    BLAKE3, header, frame CRCs, sequence continuity), the hash chain and the
 *    signatures, and writes the verified commits as the tenant's embedded log
 *    in a staging directory `<dataDir>/tenants/.restore-<tenant>-<random>`;
 * 3. loads the newest projection snapshot at or below the target (after
 *    checking its checkpoint hash equals the chain's at that commit), or none,
 *    and catches the projections up from the staged log; builds and snapshots
 *    the HNSW indexes;
 * 4. with `toNats`, republishes every commit's exact bytes into a fresh stream
 *    (which must not exist or be empty), then drops the staged log;
 * 5. moves the staging directory into place (with `force`, the old tenant is
 *    moved aside first and deleted after).
 *
 * Any failure removes the staging directory (and a stream this run created):
 * the target is never half-restored.
 */
export async function restoreFromArchive(o: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const tenant = o.tenant;
  const store = o.store;
  const manifest = await requireManifest(store, tenant);
  const manifestUrl = store.url(manifestKey(tenant));
  checkHeadSignature(manifest, o.keystore.trustedKeys(), manifestUrl);
  const plan = await makePlan(o, manifest);
  const seconds = { total: 0, download: 0, snapshot: 0, projections: 0, vectors: 0, publish: 0 };
  const result = (r: Partial<RestoreResult>): RestoreResult => ({
    ...plan,
    dry_run: o.dryRun === true,
    restored: false,
    seq: 0,
    hash: null,
    commits: 0,
    events: 0,
    encrypted: false,
    snapshot_used: null,
    published: 0,
    ...r,
    seconds: { ...seconds, total: round(performance.now() - started) },
  });
  if (o.dryRun) return result({});

  if (plan.target.exists && !o.force) throw existsError(plan);
  const nats = o.toNats === undefined ? null : await openNats(o.toNats);
  const stream = { created: false };
  const tenantsDir = layout.tenants(o.dataDir);
  const staging = join(tenantsDir, `.restore-${tenant}-${randomBytes(6).toString("hex")}`);
  const hadTenantsDir = await exists(tenantsDir);
  try {
    if (nats !== null) await checkStreamEmpty(nats.nc, tenant);
    await mkdir(staging, { recursive: true });
    const dataKeys = await o.keystore.tenantKeys(tenant);
    const trusted = o.keystore.trustedKeys();

    // 1. The log: download, verify, write the staged embedded log.
    let t0 = performance.now();
    const totalBytes = plan.bytes;
    let downloaded = 0;
    const backend = new ArchiveBackend({
      store,
      tenant,
      manifest,
      onSegment: (_s, n) => {
        downloaded += n;
        o.onProgress?.({ phase: "download", done: downloaded, total: totalBytes });
      },
    });
    const snapshot = o.useSnapshot === false ? null : pickSnapshot(manifest, plan.target_seq_max, o.untilTime);
    const archived = await TenantLog.open({ backend, trusted, dataKeys });
    const writer = new SegmentFileWriter(join(staging, "log"), tenant, o.segmentBytes);
    let last: { seq: number; hash: Uint8Array; ts: number } | null = null;
    let firstEncrypted = false;
    let commits = 0;
    let events = 0;
    let snapshotHash: Uint8Array | null = null;
    try {
      outer: for await (const batch of archived.read(1 as Seq, { until: plan.target_seq_max as Seq, signatures: "batch" })) {
        let n = batch.length;
        for (let i = 0; i < batch.length; i++) {
          const c = batch[i]!;
          if (o.untilTime !== undefined && c.ts > o.untilTime) {
            n = i;
            break;
          }
          if (c.seq === 1) firstEncrypted = c.encrypted;
          if (snapshot !== null && c.seq === snapshot.seq) snapshotHash = c.hash;
          last = c;
          commits++;
          events += c.count;
        }
        await writer.append(batch.slice(0, n).map((c) => ({ seq: c.seq, bytes: c.parsed.bytes })));
        if (n < batch.length) break outer;
      }
      await writer.finish();
    } catch (err) {
      await writer.abort();
      throw annotateArchiveError(err, backend);
    } finally {
      await archived.close();
    }
    if (last === null) {
      throw new RemError("REM_ERR_INVALID_ARGUMENT", `tenant ${tenant}: no archived commit is at or before ${new Date(o.untilTime ?? 0).toISOString()}`, { tenant });
    }
    seconds.download = round(performance.now() - t0);
    const meta: TenantMeta = { v: 1, tenant, created_at: new Date().toISOString(), backend: nats === null ? "file" : "jetstream", encrypted: firstEncrypted };
    await writeFileDurable(join(staging, "tenant.json"), JSON.stringify(meta, null, 2) + "\n", 0o644);

    // 2. Projections: from the snapshot (if any) plus the log after it.
    const storeDir = join(staging, "projections", "store");
    const vectorsDir = join(staging, "projections", "vectors");
    await mkdir(vectorsDir, { recursive: true });
    let projections = await ProjectionStore.open(storeDir);
    let snapshotUsed: number | null = null;
    const stagedLog = await TenantLog.open({ backend: await FileLog.open({ dir: join(staging, "log"), tenant, readOnly: true }), trusted, dataKeys });
    try {
      if (snapshot !== null) {
        t0 = performance.now();
        if (snapshotHash === null || toHex(snapshotHash) !== snapshot.hash) {
          throw new RemError(
            "REM_ERR_ARCHIVE_CORRUPT",
            `tenant ${tenant}: the projection snapshot at commit ${snapshot.seq} was not taken from this log (its checkpoint hash differs from the chain's); restore with --no-snapshot`,
            { tenant, seq: snapshot.seq, object: store.url(join(tenantPrefix(tenant), snapshot.objects[0]!.key)) },
          );
        }
        const snapBytes = snapshot.objects.reduce((a, x) => a + x.bytes, 0);
        let got = 0;
        await restoreSnapshot({ store, tenant, snapshot, projections, vectorsDir, onObject: (n) => o.onProgress?.({ phase: "snapshot", done: (got += n), total: snapBytes }) });
        await projections.close();
        projections = await ProjectionStore.open(storeDir);
        const cp = projections.checkpoint;
        if (cp === null || cp.seq !== snapshot.seq || toHex(cp.hash) !== snapshot.hash) {
          throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `tenant ${tenant}: the projection snapshot at commit ${snapshot.seq} holds checkpoint ${cp?.seq ?? 0}, not ${snapshot.seq}`, { tenant, seq: snapshot.seq });
        }
        snapshotUsed = snapshot.seq;
        seconds.snapshot = round(performance.now() - t0);
      }
      t0 = performance.now();
      const runner = new ProjectionRunner(projections, stagedLog);
      const from = projections.checkpoint?.seq ?? 0;
      await runner.catchUp({ until: last.seq as Seq, onProgress: (seq) => o.onProgress?.({ phase: "projections", done: seq - from, total: last!.seq - from }) });
      seconds.projections = round(performance.now() - t0);
      t0 = performance.now();
      o.onProgress?.({ phase: "vectors", done: 0, total: 1 });
      const vectors = await VectorIndexSet.open(projections, vectorsDir);
      await vectors.snapshot();
      vectors.close();
      o.onProgress?.({ phase: "vectors", done: 1, total: 1 });
      seconds.vectors = round(performance.now() - t0);
    } finally {
      await projections.close();
    }

    // 3. Republish into JetStream.
    let published = 0;
    if (nats !== null) {
      t0 = performance.now();
      try {
        published = await publish(nats.nc, tenant, stagedLog.backend, last.seq, o.publishWindow ?? 256, stream, (n) => o.onProgress?.({ phase: "publish", done: n, total: last!.seq }));
      } finally {
        await stagedLog.close();
      }
      await rm(join(staging, "log"), { recursive: true, force: true });
      seconds.publish = round(performance.now() - t0);
    } else {
      await stagedLog.close();
    }

    // 4. Into place.
    await syncDirectory(staging);
    const target = plan.target.tenant_dir;
    if (await exists(target)) {
      if (!o.force) throw existsError(plan);
      const aside = join(tenantsDir, `.old-${tenant}-${randomBytes(6).toString("hex")}`);
      await rename(target, aside);
      await rename(staging, target);
      await syncDirectory(tenantsDir);
      await rm(aside, { recursive: true, force: true });
    } else {
      await rename(staging, target);
      await syncDirectory(tenantsDir);
    }
    return result({ restored: true, seq: last.seq, hash: toHex(last.hash), commits, events, encrypted: firstEncrypted, snapshot_used: snapshotUsed, published });
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (!hadTenantsDir) await rmdir(tenantsDir).catch(() => undefined); // leave the data directory as found
    if (stream.created && nats !== null) await deleteStream(nats.nc, tenant).catch(() => undefined);
    throw err;
  } finally {
    if (nats?.owned) await nats.nc.close().catch(() => undefined);
  }
}

function round(ms: number): number {
  return Number((ms / 1000).toFixed(3));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function existsError(plan: RestorePlan): RemError {
  return new RemError("REM_ERR_ALREADY_EXISTS", `tenant ${plan.tenant} already exists in ${plan.target.data_dir} (${plan.target.tenant_dir}); pass --force to replace it`, {
    tenant: plan.tenant,
    path: plan.target.tenant_dir,
  });
}

/** Works out what a restore would do, from the manifest and the target alone. */
async function makePlan(o: RestoreOptions, m: Manifest): Promise<RestorePlan> {
  const tenant = o.tenant;
  const head = m.head;
  if (head === null) throw new RemError("REM_ERR_ARCHIVE_NOT_FOUND", `the archive of tenant ${tenant} is empty`, { tenant, object: o.store.url(manifestKey(tenant)) });
  if (o.untilSeq !== undefined && o.untilTime !== undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "give --until-seq or --until-time, not both", { field: "until" });
  let targetMax = head.seq;
  let exact: number | null = head.seq;
  if (o.untilSeq !== undefined) {
    if (!Number.isSafeInteger(o.untilSeq) || o.untilSeq < 1) throw new RemError("REM_ERR_INVALID_ARGUMENT", `--until-seq must be ≥ 1, got ${o.untilSeq}`, { field: "until-seq" });
    if (o.untilSeq > head.seq) throw new RemError("REM_ERR_INVALID_ARGUMENT", `--until-seq ${o.untilSeq} is beyond the archive, which ends at commit ${head.seq}`, { tenant, field: "until-seq", seq: head.seq });
    targetMax = exact = o.untilSeq;
  }
  if (o.untilTime !== undefined) {
    const t = o.untilTime;
    const within = m.segments.filter((s) => s.first_ts <= t);
    if (within.length === 0) throw new RemError("REM_ERR_INVALID_ARGUMENT", `tenant ${tenant}: the first archived commit is after ${new Date(t).toISOString()}`, { tenant, field: "until-time" });
    const lastSeg = within[within.length - 1]!;
    targetMax = lastSeg.last_seq;
    // The whole segment is in range, and the next one (if any) starts after t: the target is its end.
    exact = lastSeg.last_ts <= t ? lastSeg.last_seq : null;
  }
  const segs: ManifestSegment[] = m.segments.filter((s) => s.first_seq <= targetMax);
  const snapshot = o.useSnapshot === false ? null : pickSnapshot(m, targetMax, o.untilTime);
  // Checked here, from the manifest alone, so --dry-run reports a snapshot that would be refused.
  if (snapshot !== null) checkSnapshotSignature(tenant, snapshot, o.keystore.trustedKeys(), o.store.url(manifestKey(tenant)));
  const tenantDir = layout.tenant(o.dataDir, tenant);
  return {
    tenant,
    archive: o.store.url(tenantPrefix(tenant)),
    manifest: o.store.url(manifestKey(tenant)),
    archive_head: { seq: head.seq, hash: head.hash, ts: new Date(head.ts).toISOString(), key_id: head.key_id },
    target_seq: exact,
    target_seq_max: targetMax,
    until_time: o.untilTime === undefined ? null : new Date(o.untilTime).toISOString(),
    segments: segs.length,
    bytes: segs.reduce((a, s) => a + s.bytes, 0),
    first_object: segs.length === 0 ? null : o.store.url(`${tenantPrefix(tenant)}/${segs[0]!.key}`),
    last_object: segs.length === 0 ? null : o.store.url(`${tenantPrefix(tenant)}/${segs[segs.length - 1]!.key}`),
    snapshot: snapshot === null ? null : { seq: snapshot.seq, objects: snapshot.objects.length, bytes: snapshot.objects.reduce((a, x) => a + x.bytes, 0) },
    target: {
      data_dir: o.dataDir,
      tenant_dir: tenantDir,
      exists: await exists(tenantDir),
      replace: o.force === true,
      backend: o.toNats === undefined ? "file" : "jetstream",
      stream: o.toNats === undefined ? null : `REM_${tenant}`,
    },
  };
}

/**
 * The newest snapshot a restore to `targetMax` (or to the last commit with
 * ts ≤ untilTime) can start from: at or below the target, of the current store
 * format. With a time bound, its commit must be within the bound too, which
 * puts it at or below the (not yet known) exact target.
 */
export function pickSnapshot(m: Manifest, targetMax: number, untilTime: number | undefined): ManifestSnapshot | null {
  let best: ManifestSnapshot | null = null;
  for (const s of m.snapshots) {
    if (s.seq > targetMax || s.store_format !== STORE_FORMAT) continue;
    if (untilTime !== undefined && s.ts > untilTime) continue;
    if (best === null || s.seq > best.seq) best = s;
  }
  return best;
}

async function openNats(target: { readonly url: string } | { readonly nc: NatsConnection }): Promise<{ nc: NatsConnection; owned: boolean }> {
  if ("nc" in target) return { nc: target.nc, owned: false };
  const { connectNats } = await import("../events/log/jetstream/connect.js");
  return { nc: await connectNats(target.url), owned: true };
}

/** Refuses a stream that already holds commits: REM never purges or overwrites a log. */
async function checkStreamEmpty(nc: NatsConnection, tenant: TenantName): Promise<void> {
  const { JetStreamLog } = await import("../events/log/jetstream/jetstream-log.js");
  let log: LogBackend;
  try {
    log = await JetStreamLog.open({ nc, tenant, create: false });
  } catch (err) {
    if (isRemError(err, "REM_ERR_NOT_FOUND")) return;
    throw err;
  }
  try {
    const last = await log.last();
    if (last !== null) {
      throw new RemError(
        "REM_ERR_ALREADY_EXISTS",
        `tenant ${tenant}: JetStream stream REM_${tenant} already holds commits 1-${last.seq}; a restore only republishes into a new or empty stream (REM never deletes commits: remove the stream yourself, e.g. \`nats stream rm REM_${tenant}\`, if it must go)`,
        { tenant, stream: `REM_${tenant}`, seq: last.seq },
      );
    }
  } finally {
    await log.close();
  }
}

/**
 * Republishes commits 1..until from `source` into the tenant's stream, each
 * with its exact bytes, pipelined (`window` in flight, each expecting its
 * predecessor), then checks the stream's last message is our last commit.
 */
async function publish(
  nc: NatsConnection,
  tenant: TenantName,
  source: LogBackend,
  until: number,
  window: number,
  stream: { created: boolean },
  progress: (n: number) => void,
): Promise<number> {
  const { JetStreamLog } = await import("../events/log/jetstream/jetstream-log.js");
  let js: LogBackend;
  try {
    js = await JetStreamLog.open({ nc, tenant, create: false });
  } catch (err) {
    if (!isRemError(err, "REM_ERR_NOT_FOUND")) throw err;
    js = await JetStreamLog.open({ nc, tenant, create: true });
    stream.created = true;
  }
  try {
    const existing = stream.created ? null : await js.last();
    if (existing !== null) {
      throw new RemError("REM_ERR_ALREADY_EXISTS", `tenant ${tenant}: JetStream stream REM_${tenant} received commits 1-${existing.seq} during the restore`, { tenant, seq: existing.seq });
    }
    let failure: unknown = null;
    const inflight: Promise<unknown>[] = [];
    let prev: CommitId | undefined;
    let published = 0;
    let lastBytes: Uint8Array | null = null;
    for await (const batch of source.read(1 as Seq, { until: until as Seq })) {
      for (const c of batch) {
        if (failure !== null) throw failure;
        const commitId = toHex(c.bytes.subarray(56, 72)) as CommitId;
        const p = js.append({ seq: c.seq, commitId, bytes: c.bytes, prevCommitId: prev }).then(
          (ack) => {
            if (ack.duplicate) throw new RemError("REM_ERR_LOG_CONFLICT", `tenant ${tenant}: commit ${c.seq} was taken for a duplicate by JetStream`, { tenant, seq: c.seq });
            published++;
            if (published % 1000 === 0) progress(published);
          },
          (err: unknown) => {
            throw err;
          },
        );
        p.catch((err: unknown) => {
          failure ??= err;
        });
        inflight.push(p);
        prev = commitId;
        lastBytes = c.bytes;
        if (inflight.length >= window) await inflight.shift()!.catch(() => undefined);
      }
    }
    await Promise.allSettled(inflight);
    if (failure !== null) throw failure;
    progress(published);
    const last = await js.last();
    if (last === null || last.seq !== until || lastBytes === null || !bytesEqual(last.bytes, lastBytes)) {
      throw new RemError("REM_ERR_INTERNAL", `tenant ${tenant}: after republishing, stream REM_${tenant} ends at ${last?.seq ?? 0}, not at commit ${until}`, { tenant, seq: until });
    }
    return published;
  } finally {
    await js.close();
  }
}

async function deleteStream(nc: NatsConnection, tenant: TenantName): Promise<void> {
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(`REM_${tenant}`);
}
