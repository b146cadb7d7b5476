import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { resolveConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { parseCommit } from "../../events/codec/commit.js";
import { blake3, toHex } from "../../events/hash.js";
import type { Event } from "../../events/model/events.js";
import { tenantName } from "../../events/model/ids.js";
import { checkFrame } from "../../events/log/file/frame.js";
import { SEGMENT_HEADER } from "../../events/log/file/segment-header.js";
import { DEFAULT_MAX_COMMIT_BYTES } from "../../events/log/types.js";
import { writeTenantMeta } from "../../src/node/tenant-meta.js";
import { Tenant } from "../../src/node/tenant.js";
import { Archiver } from "../../replay/archive/archiver.js";
import { objectKey, requireManifest } from "../../replay/archive/manifest.js";
import type { ObjectStore } from "../../replay/archive/object-store.js";
import { restoreFromArchive, type RestoreResult } from "../../replay/restore.js";
import { startS3Server, testStore } from "../../test/support/s3-server.js";
import type { Cleanup } from "../lib/cleanup.js";
import { progress, ratio } from "../lib/report.js";

export interface RestoreBenchOptions {
  /** Scratch directory (source node, target node). */
  readonly dir: string;
  readonly events: number;
  /** Events per commit (default 100). */
  readonly perCommit?: number;
  /** Segment object size (default 64 MiB, as `rem archive`). */
  readonly segmentBytes?: number;
  readonly cleanup: Cleanup;
}

export interface RestoreBenchResult {
  readonly events: number;
  readonly commits: number;
  readonly objects: number;
  readonly bytes: number;
  /** Download + frame CRC + BLAKE3 + commit header parse of every segment object: the floor for any restore. */
  readonly raw_seconds: number;
  /** restoreFromArchive: download, verify (objects, chain, signatures), staged log, projections, HNSW, move into place. */
  readonly restore_seconds: number;
  readonly restore_events_per_s: number;
  /** restore / raw. */
  readonly ratio: number;
  readonly phases: RestoreResult["seconds"];
}

const SCHEMA = {
  type: "object",
  properties: { text: { type: "string" }, n: { type: "integer" }, tag: { type: "string" } },
  json_schema_extra: { name: "notes", indexed_fields: ["n", "tag"] },
};

function note(i: number): Event {
  return { type: "entity.upserted", v: 1, id: randomUUID(), entity_id: randomUUID(), schema: "notes", data: { text: `note ${i}: agent memory archive restore step ${i}`, n: i, tag: `t${i % 50}` } };
}

/**
 * Restore of `events` entity upserts from an S3 archive (a real S3 API server,
 * s3rver, on loopback), with projections, against the raw download and decode
 * of the same objects in the same run. The archive is written first by
 * `rem archive`'s code path.
 */
export async function measureRestore(o: RestoreBenchOptions): Promise<RestoreBenchResult> {
  const perCommit = o.perCommit ?? 100;
  const server = await startS3Server("rem-bench");
  o.cleanup.add("s3rver", () => server.close());
  const store = await testStore(server, "bench", { retry: { attempts: 6 } });
  o.cleanup.add("s3 client", () => store.close());

  // The source: a tenant on the embedded log.
  const src = join(o.dir, "source");
  const keystore = await Keystore.create(join(src, "keys"), "bench passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  const tenant = tenantName("bench");
  await writeTenantMeta(src, { v: 1, tenant, created_at: new Date().toISOString(), backend: "file", encrypted: false });
  const t = await Tenant.open(resolveConfig({ data: src }, {}), tenant, { keystore, write: true, sync: false });
  try {
    await t.log.append([{ type: "schema.registered", v: 1, id: randomUUID(), name: "notes", definition: SCHEMA }]);
    const inflight: Promise<unknown>[] = [];
    for (let c = 0; c * perCommit < o.events; c++) {
      const evs: Event[] = [];
      for (let i = c * perCommit; i < Math.min(o.events, (c + 1) * perCommit); i++) evs.push(note(i));
      inflight.push(t.log.append(evs));
      if (inflight.length >= 32) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
    progress(`restore bench: appended ${o.events} events`);
    const archived = await (await Archiver.open(t.log, store)).archive({ segmentBytes: o.segmentBytes });
    progress(`restore bench: archived ${archived.commits} commits in ${archived.segments_total} objects (${(archived.bytes / 1e6).toFixed(1)} MB) in ${archived.seconds} s`);
  } finally {
    await t.close();
  }

  const raw1 = await rawDownload(store, tenant);
  const target = join(o.dir, "target");
  await mkdir(target, { recursive: true });
  const tks = await Keystore.create(join(target, "keys"), "bench passphrase", { logN: 10 });
  for (const k of keystore.listTrusted()) await tks.trust(k.publicKey, "source");
  const started = performance.now();
  const r = await restoreFromArchive({ store, tenant, dataDir: target, keystore: tks });
  const restoreSeconds = (performance.now() - started) / 1000;
  progress(`restore bench: restored ${r.events} events in ${restoreSeconds.toFixed(2)} s (${JSON.stringify(r.seconds)})`);
  const raw2 = await rawDownload(store, tenant);
  const raw = Math.min(raw1.seconds, raw2.seconds);
  progress(`restore bench: raw download + decode ${raw.toFixed(2)} s`);
  return {
    events: r.events,
    commits: r.commits,
    objects: raw1.objects,
    bytes: raw1.bytes,
    raw_seconds: raw,
    restore_seconds: restoreSeconds,
    restore_events_per_s: r.events / restoreSeconds,
    ratio: ratio(restoreSeconds, raw),
    phases: r.seconds,
  };
}

/** Downloads every segment object (next one in flight while decoding), checks BLAKE3 and frames, parses each commit header. */
export async function rawDownload(store: ObjectStore, tenant: string): Promise<{ seconds: number; objects: number; bytes: number; commits: number }> {
  const started = performance.now();
  const m = await requireManifest(store, tenantName(tenant));
  let bytes = 0;
  let commits = 0;
  let next: Promise<Uint8Array> | null = m.segments.length > 0 ? store.get(objectKey(tenant, m.segments[0]!.key)) : null;
  for (let i = 0; i < m.segments.length; i++) {
    const body = await next!;
    next = i + 1 < m.segments.length ? store.get(objectKey(tenant, m.segments[i + 1]!.key)) : null;
    if (toHex(blake3(body)) !== m.segments[i]!.blake3) throw new Error(`object ${m.segments[i]!.key} does not match the manifest`);
    bytes += body.length;
    for (let off = SEGMENT_HEADER; off < body.length; ) {
      const f = checkFrame(body, off, DEFAULT_MAX_COMMIT_BYTES);
      if (f.kind !== "ok") throw new Error(`bad frame in ${m.segments[i]!.key} at ${off}`);
      parseCommit(f.commit);
      commits++;
      off += f.length;
    }
  }
  return { seconds: (performance.now() - started) / 1000, objects: m.segments.length, bytes, commits };
}
