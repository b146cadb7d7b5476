import { mkdir, open, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { RemError } from "../../src/errors.js";
import { syncDirectory, writeFileDurable } from "../../events/keys/files.js";
import { blake3, toHex } from "../../events/hash.js";
import { STORE_FORMAT, type ProjectionStore } from "../../projections/store/store.js";
import type { Archiver } from "./archiver.js";
import { objectKey, snapshotDir, type Manifest, type ManifestSnapshot } from "./manifest.js";
import type { ObjectStore } from "./object-store.js";
import { signSnapshot } from "./snapshot-signature.js";
import type { Signer } from "../../events/signing.js";

/**
 * Projection snapshots in an archive (docs/event-format.md §10.4): the
 * projection store as a logical dump taken from one LevelDB snapshot
 * (`store.kv`, consistent while the store keeps serving), plus the HNSW index
 * snapshot directory as files (`vectors/…`). Files are uploaded in parts of at
 * most PART_BYTES, each part an object `snapshots/<seq>/<file>.<part, 5 digits>`
 * with its size and BLAKE3 in the manifest. A restore loads the newest snapshot
 * at or below its target and replays only the log after it. Each snapshot
 * entry is signed by the node's key (snapshot-signature.ts).
 */
export const PART_BYTES = 64 * 1024 * 1024;
const KV_MAGIC = Buffer.from("RKV1", "ascii");

export interface SnapshotObject {
  readonly key: string;
  readonly file: string;
  readonly part: number;
  readonly bytes: number;
  readonly blake3: string;
}

export interface TakeSnapshotOptions {
  readonly archiver: Archiver;
  readonly projections: ProjectionStore;
  /** The tenant's HNSW snapshot directory (projections/vectors), already snapshotted by the caller. */
  readonly vectorsDir: string;
  /** Signs the snapshot entry (the node's signing key): restores load only snapshots signed by a trusted key. */
  readonly signer: Signer;
  /** Keep this many snapshots (newest first) in the manifest; older ones' objects are deleted after it is written. Default 2. */
  readonly keep?: number;
  readonly partBytes?: number;
}

export interface SnapshotSummary {
  readonly seq: number;
  readonly objects: number;
  readonly bytes: number;
  readonly deleted_snapshots: number[];
  /** true when the archive already had a snapshot at this commit (nothing uploaded). */
  readonly unchanged: boolean;
}

/**
 * Uploads a snapshot of the projections at their checkpoint, lists it in the
 * manifest (after every object is uploaded), then applies retention. The log
 * must already be archived at least up to the checkpoint.
 */
export async function uploadSnapshot(o: TakeSnapshotOptions): Promise<SnapshotSummary> {
  const { archiver } = o;
  const store = archiver.store;
  const tenant = archiver.log.tenant;
  const cp = o.projections.checkpoint;
  if (cp === null) throw new RemError("REM_ERR_INVALID_ARGUMENT", `tenant ${tenant}: the projections are empty; nothing to snapshot`, { tenant });
  const head = archiver.manifest.head;
  if (head === null || head.seq < cp.seq) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `tenant ${tenant}: archive the log up to commit ${cp.seq} before snapshotting the projections`, { tenant, seq: cp.seq });
  }
  // Archived objects are never replaced under a manifest that lists them: a snapshot at this commit is already there.
  if (archiver.manifest.snapshots.some((s) => s.seq === cp.seq)) return { seq: cp.seq, objects: 0, bytes: 0, deleted_snapshots: [], unchanged: true };
  const partBytes = o.partBytes ?? PART_BYTES;
  const dir = snapshotDir(cp.seq);
  const objects: SnapshotObject[] = [];
  const put = async (file: string, part: number, bytes: Uint8Array) => {
    const key = `${dir}/${file}.${String(part).padStart(5, "0")}`;
    const digest = toHex(blake3(bytes));
    await store.put(objectKey(tenant, key), bytes, { metadata: { blake3: digest } });
    objects.push({ key, file, part, bytes: bytes.length, blake3: digest });
  };
  // The store: one LevelDB iterator reads from one implicit snapshot, so the dump is consistent.
  let part = 0;
  let chunk: Buffer[] = [KV_MAGIC];
  let size = KV_MAGIC.length;
  const it = o.projections.db.iterator();
  try {
    for (;;) {
      const entries = await it.nextv(1000);
      if (entries.length === 0) break;
      for (const [k, v] of entries) {
        const h = Buffer.allocUnsafe(8);
        h.writeUInt32BE(k.length, 0);
        h.writeUInt32BE(v.length, 4);
        chunk.push(h, Buffer.from(k), Buffer.from(v));
        size += 8 + k.length + v.length;
        if (size >= partBytes) {
          await put("store.kv", part++, Buffer.concat(chunk, size));
          chunk = [KV_MAGIC];
          size = KV_MAGIC.length;
        }
      }
    }
  } finally {
    await it.close();
  }
  if (size > KV_MAGIC.length || part === 0) await put("store.kv", part, Buffer.concat(chunk, size));
  // The HNSW snapshot the caller just wrote: CURRENT and the directory it names.
  const current = await readFile(join(o.vectorsDir, "CURRENT"), "utf8").catch(() => null);
  if (current !== null) {
    const name = current.trim();
    await putFile(join(o.vectorsDir, "CURRENT"), "vectors/CURRENT", partBytes, put);
    for (const f of await listFiles(join(o.vectorsDir, name))) {
      await putFile(f, `vectors/${name}/${relative(join(o.vectorsDir, name), f).split(sep).join("/")}`, partBytes, put);
    }
  }
  const signed = {
    seq: cp.seq,
    hash: toHex(cp.hash),
    ts: cp.ts,
    store_format: STORE_FORMAT,
    objects: objects.map((x) => ({ key: x.key, bytes: x.bytes, blake3: x.blake3 })),
  };
  const snapshot: ManifestSnapshot = { ...signed, created_at: new Date().toISOString(), ...signSnapshot(tenant, signed, o.signer) };
  const keep = Math.max(1, o.keep ?? 2);
  const m = archiver.manifest;
  const all = [...m.snapshots, snapshot].sort((a, b) => b.seq - a.seq);
  const kept = all.slice(0, keep);
  const dropped = all.slice(keep);
  const next: Manifest = { ...m, updated_at: new Date().toISOString(), snapshots: kept.sort((a, b) => a.seq - b.seq) };
  await archiver.writeManifest(next);
  // Only now that no manifest lists them: delete the dropped snapshots' objects.
  const stale = dropped.flatMap((s) => s.objects.map((x) => x.key));
  if (stale.length > 0) await store.delete(stale.map((k) => objectKey(tenant, k)));
  return { seq: cp.seq, objects: objects.length, bytes: objects.reduce((a, x) => a + x.bytes, 0), deleted_snapshots: dropped.map((s) => s.seq), unchanged: false };
}

async function putFile(path: string, file: string, partBytes: number, put: (file: string, part: number, bytes: Uint8Array) => Promise<void>): Promise<void> {
  const size = (await stat(path)).size;
  const fh = await open(path, "r");
  try {
    let part = 0;
    for (let off = 0; off < size || part === 0; off += partBytes) {
      const n = Math.min(partBytes, size - off);
      const buf = new Uint8Array(n);
      if (n > 0) await fh.read(buf, 0, n, off);
      await put(file, part++, buf);
    }
  } finally {
    await fh.close();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Parses a snapshot object's key into its file and part. */
function fileAndPart(key: string, seq: number): { file: string; part: number } | null {
  const prefix = `${snapshotDir(seq)}/`;
  if (!key.startsWith(prefix)) return null;
  const m = /^(.+)\.(\d{5})$/.exec(key.slice(prefix.length));
  if (m === null) return null;
  const file = m[1]!;
  if (file !== "store.kv" && !/^vectors\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(file)) return null;
  if (file.split("/").some((p) => p === "." || p === "..")) return null;
  return { file, part: Number(m[2]) };
}

export interface RestoreSnapshotOptions {
  readonly store: ObjectStore;
  readonly tenant: string;
  readonly snapshot: ManifestSnapshot;
  /** An empty, open projection store to load the dump into. */
  readonly projections: ProjectionStore;
  readonly vectorsDir: string;
  readonly onObject?: (bytes: number) => void;
}

/**
 * Downloads a snapshot's objects (each checked against its manifest size and
 * BLAKE3), loads the store dump into `projections` and writes the HNSW files.
 * The caller reopens the store afterwards (it reads its checkpoint on open).
 */
export async function restoreSnapshot(o: RestoreSnapshotOptions): Promise<{ objects: number; bytes: number; records: number }> {
  const { snapshot, store, tenant } = o;
  const parts = snapshot.objects.map((x) => {
    const fp = fileAndPart(x.key, snapshot.seq);
    if (fp === null) {
      throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `snapshot ${snapshot.seq}: object key ${x.key} is not a snapshot file part`, { tenant, object: store.url(objectKey(tenant, x.key)), seq: snapshot.seq });
    }
    return { ...x, ...fp };
  });
  let bytes = 0;
  let records = 0;
  const files = new Map<string, Uint8Array[]>();
  const db = o.projections.db;
  const expectedPart = new Map<string, number>();
  for (const p of parts) {
    const where = store.url(objectKey(tenant, p.key));
    const want = expectedPart.get(p.file) ?? 0;
    if (p.part !== want) throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `snapshot ${snapshot.seq}: ${where} is part ${p.part} of ${p.file}, expected part ${want}`, { tenant, object: where, seq: snapshot.seq });
    expectedPart.set(p.file, want + 1);
    const body = await store.get(objectKey(tenant, p.key));
    if (body.length !== p.bytes || toHex(blake3(body)) !== p.blake3) {
      throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `snapshot ${snapshot.seq}: ${where} does not match the manifest (size or BLAKE3)`, { tenant, object: where, seq: snapshot.seq });
    }
    bytes += body.length;
    o.onObject?.(body.length);
    if (p.file === "store.kv") {
      records += await loadKv(db, body, where, tenant, snapshot.seq);
    } else {
      const list = files.get(p.file) ?? [];
      list.push(body);
      files.set(p.file, list);
    }
  }
  for (const [file, chunks] of files) {
    const path = join(o.vectorsDir, ...file.slice("vectors/".length).split("/"));
    await mkdir(dirname(path), { recursive: true });
    await writeFileDurable(path, Buffer.concat(chunks), 0o644);
  }
  if (files.size > 0) await syncDirectory(o.vectorsDir);
  return { objects: parts.length, bytes, records };
}

async function loadKv(db: ProjectionStore["db"], body: Uint8Array, where: string, tenant: string, seq: number): Promise<number> {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const bad = (why: string) => new RemError("REM_ERR_ARCHIVE_CORRUPT", `snapshot ${seq}: ${where}: ${why}`, { tenant, object: where, seq });
  if (b.length < 4 || !b.subarray(0, 4).equals(KV_MAGIC)) throw bad("not a store dump part (bad magic)");
  let off = 4;
  let n = 0;
  let batch = db.batch();
  while (off < b.length) {
    if (off + 8 > b.length) throw bad(`truncated record at byte ${off}`);
    const kl = b.readUInt32BE(off);
    const vl = b.readUInt32BE(off + 4);
    if (off + 8 + kl + vl > b.length) throw bad(`truncated record at byte ${off}`);
    batch.put(b.subarray(off + 8, off + 8 + kl), b.subarray(off + 8 + kl, off + 8 + kl + vl));
    off += 8 + kl + vl;
    n++;
    if (batch.length >= 10_000) {
      await batch.write();
      batch = db.batch();
    }
  }
  if (batch.length > 0) await batch.write();
  else await batch.close();
  return n;
}
