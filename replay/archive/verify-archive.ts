import { RemError } from "../../src/errors.js";
import type { Keystore } from "../../events/keys/keystore.js";
import { toHex } from "../../events/hash.js";
import type { TenantName } from "../../events/model/ids.js";
import { parseCommit } from "../../events/codec/commit.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import { verifyLog, type VerifySummary } from "../verify.js";
import { ArchiveBackend, annotateArchiveError } from "./archive-backend.js";
import { checkHeadSignature, manifestKey, objectKey, requireManifest, tenantPrefix } from "./manifest.js";
import type { ObjectStore } from "./object-store.js";
import { checkSnapshotSignature } from "./snapshot-signature.js";

export interface VerifyArchiveOptions {
  readonly store: ObjectStore;
  readonly tenant: TenantName;
  /** Trusted keys; with the tenant's data keys (unlocked) payloads are decrypted and validated too. */
  readonly keystore: Keystore;
  readonly decrypt?: boolean;
  readonly onProgress?: (seq: number, headSeq: number) => void;
}

export interface VerifyArchiveSummary extends Omit<VerifySummary, "backend"> {
  readonly backend: "archive";
  readonly archive: string;
  readonly manifest: string;
  readonly segments: number;
  readonly bytes: number;
  readonly snapshots: { seq: number; objects: number; bytes: number }[];
}

/**
 * Audits an archive without restoring it: the manifest (shape, gapless segment
 * chain, the signed head's key and signature), every segment object (size and
 * BLAKE3 against the manifest, header, frame CRCs, sequences), the hash chain
 * from commit 1, every commit's signature, decryptability when the keys are
 * there, that the last commit is exactly the manifest's signed head, and that
 * every snapshot is signed by a trusted key and its objects exist with their
 * recorded sizes. Throws the first failure
 * as a RemError naming the object and sequence.
 */
export async function verifyArchive(o: VerifyArchiveOptions): Promise<VerifyArchiveSummary> {
  const { store, tenant } = o;
  const manifest = await requireManifest(store, tenant);
  const where = store.url(manifestKey(tenant));
  checkHeadSignature(manifest, o.keystore.trustedKeys(), where);
  const backend = new ArchiveBackend({ store, tenant, manifest });
  const log = await TenantLog.open({ backend, trusted: o.keystore.trustedKeys(), dataKeys: await o.keystore.tenantKeys(tenant) });
  const headSeq = manifest.head?.seq ?? 0;
  let summary: VerifySummary;
  try {
    summary = await verifyLog(log, { decrypt: o.decrypt, onProgress: (seq) => o.onProgress?.(seq, headSeq) });
  } catch (err) {
    throw annotateArchiveError(err, backend);
  } finally {
    await log.close();
  }
  const head = manifest.head;
  const last = backend.lastRead;
  if (head !== null) {
    const signature = last === null ? null : Buffer.from(parseCommit(last.bytes, last.seq).signature).toString("base64");
    if (summary.head_seq !== head.seq || summary.head_hash !== head.hash || signature !== head.signature || (last !== null && toHex(last.bytes.subarray(72, 80)) !== head.key_id)) {
      throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `${where}: the signed head (commit ${head.seq}) is not the last archived commit (${summary.head_seq})`, { tenant, object: where, seq: head.seq });
    }
  }
  for (const snap of manifest.snapshots) {
    checkSnapshotSignature(tenant, snap, o.keystore.trustedKeys(), where);
    for (const x of snap.objects) {
      const info = await store.head(objectKey(tenant, x.key));
      const url = store.url(objectKey(tenant, x.key));
      if (info === null) throw new RemError("REM_ERR_ARCHIVE_NOT_FOUND", `snapshot ${snap.seq}: object ${url} is missing`, { tenant, object: url, seq: snap.seq });
      if (info.size !== x.bytes) throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `snapshot ${snap.seq}: object ${url} is ${info.size} bytes, the manifest says ${x.bytes}`, { tenant, object: url, seq: snap.seq });
    }
  }
  return {
    ...summary,
    backend: "archive",
    archive: store.url(tenantPrefix(tenant)),
    manifest: where,
    segments: manifest.segments.length,
    bytes: manifest.segments.reduce((a, s) => a + s.bytes, 0),
    snapshots: manifest.snapshots.map((s) => ({ seq: s.seq, objects: s.objects.length, bytes: s.objects.reduce((a, x) => a + x.bytes, 0) })),
  };
}
