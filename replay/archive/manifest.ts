import { z } from "zod";
import { RemError } from "../../src/errors.js";
import type { TrustedKeys } from "../../events/chain-verifier.js";
import { signatureMessage } from "../../events/commit-builder.js";
import { fromHex, toHex } from "../../events/hash.js";
import type { TenantName } from "../../events/model/ids.js";
import type { ObjectStore } from "./object-store.js";
import { joinKey } from "./s3-url.js";

/**
 * The archive of one tenant (docs/event-format.md §10):
 *
 *   <prefix>/<tenant>/manifest.json
 *   <prefix>/<tenant>/segments/<first seq, 20 digits>-<last seq, 20 digits>.seg
 *   <prefix>/<tenant>/snapshots/<seq, 20 digits>/<file>
 *
 * Keys inside the manifest are relative to `<prefix>/<tenant>/`, so an archive
 * can be copied to another bucket or prefix as it is.
 */
export const MANIFEST_FORMAT = "rem-archive-manifest";
export const MANIFEST_VERSION = 1;

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/);
const SEQ = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const TS = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const KEY = z.string().min(1).max(900).regex(/^[A-Za-z0-9._\/-]+$/).refine((k) => !k.split("/").some((p) => p === "" || p === "." || p === ".."), "a relative key without empty, '.' or '..' parts");

const SegmentSchema = z.strictObject({
  key: KEY,
  first_seq: SEQ,
  last_seq: SEQ,
  /** Size of the object in bytes. */
  bytes: z.number().int().min(84),
  /** BLAKE3-256 of the whole object, hex. */
  blake3: HEX64,
  /** The prev_hash of the first commit (the hash of commit first_seq - 1; zeros for 1). */
  first_prev_hash: HEX64,
  /** The hash of the last commit. */
  last_hash: HEX64,
  first_ts: TS,
  last_ts: TS,
});

const HeadSchema = z.strictObject({
  seq: SEQ,
  hash: HEX64,
  ts: TS,
  commit_id: z.string().regex(/^[0-9a-f]{32}$/),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  /** The head commit's Ed25519 signature, base64: verifiable on its own with the signer's public key. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
});

const SnapshotObjectSchema = z.strictObject({ key: KEY, bytes: z.number().int().min(0), blake3: HEX64 });

const SnapshotSchema = z.strictObject({
  /** The projection store's checkpoint: the snapshot reflects commits 1..seq. */
  seq: SEQ,
  /** The chain hash at `seq` (the store checkpoint's hash); restore checks it against the log. */
  hash: HEX64,
  ts: TS,
  created_at: z.string(),
  /** The projection store format (projections/store/store.ts STORE_FORMAT) the dump was taken with. */
  store_format: z.number().int().min(1),
  objects: z.array(SnapshotObjectSchema).min(1),
  /** The signer and its Ed25519 signature over the entry (replay/archive/snapshot-signature.ts); absent in archives from before snapshots were signed, which restores refuse to load. */
  key_id: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/).optional(),
});

const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  v: z.literal(MANIFEST_VERSION),
  tenant: z.string(),
  /** Whether the tenant's commits are encrypted (commit 1's flag): restoring needs its data keys. */
  encrypted: z.boolean(),
  updated_at: z.string(),
  segments: z.array(SegmentSchema),
  head: HeadSchema.nullable(),
  snapshots: z.array(SnapshotSchema),
  /**
   * Segment objects a compaction replaced (replay/archive/compact.ts): no longer
   * part of the archive, deleted once `retired_at` is older than the grace
   * period, so a restore that read an older manifest can still finish.
   */
  retired: z.array(z.strictObject({ key: KEY, retired_at: z.string() })).optional(),
});

export type ManifestSegment = z.infer<typeof SegmentSchema>;
export type ManifestHead = z.infer<typeof HeadSchema>;
export type ManifestSnapshot = z.infer<typeof SnapshotSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;

export function tenantPrefix(tenant: string): string {
  return tenant;
}

export function manifestKey(tenant: string): string {
  return joinKey(tenant, "manifest.json");
}

/** The absolute key (under the store's root) of a key listed in a tenant's manifest. */
export function objectKey(tenant: string, relative: string): string {
  return joinKey(tenant, relative);
}

const pad = (n: number) => String(n).padStart(20, "0");

export function segmentKey(firstSeq: number, lastSeq: number): string {
  return `segments/${pad(firstSeq)}-${pad(lastSeq)}.seg`;
}

export function snapshotDir(seq: number): string {
  return `snapshots/${pad(seq)}`;
}

export function emptyManifest(tenant: TenantName): Manifest {
  return { format: MANIFEST_FORMAT, v: MANIFEST_VERSION, tenant, encrypted: false, updated_at: new Date().toISOString(), segments: [], head: null, snapshots: [] };
}

/** Parses and checks a manifest: its shape, that it belongs to `tenant`, and that its segments form one gapless chain ending at the head. */
export function parseManifest(bytes: Uint8Array, tenant: string, where: string): Manifest {
  const corrupt = (why: string, extra: Record<string, unknown> = {}) => new RemError("REM_ERR_ARCHIVE_CORRUPT", `${where}: ${why}`, { tenant, object: where, ...extra });
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw corrupt("not valid JSON");
  }
  if (typeof json === "object" && json !== null && (json as { format?: unknown }).format === MANIFEST_FORMAT && (json as { v?: unknown }).v !== MANIFEST_VERSION) {
    throw new RemError("REM_ERR_UNSUPPORTED_VERSION", `${where}: manifest version ${String((json as { v?: unknown }).v)} is not supported (expected ${MANIFEST_VERSION})`, { tenant, object: where });
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw corrupt(`not a valid REM archive manifest: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const m = r.data;
  if (m.tenant !== tenant) throw corrupt(`the manifest is for tenant ${JSON.stringify(m.tenant)}, not ${tenant}`);
  checkChain(m, where);
  return m;
}

/** Segments start at 1, follow each other without gaps or overlaps, link by hash, and end at the head. */
export function checkChain(m: Manifest, where: string): void {
  const tenant = m.tenant;
  let prev: ManifestSegment | null = null;
  for (const s of m.segments) {
    const at = `${where}: segment ${s.key}`;
    if (s.key !== segmentKey(s.first_seq, s.last_seq)) {
      throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `${at}: its key does not match its range ${s.first_seq}-${s.last_seq}`, { tenant, object: where, segment: s.key, seq: s.first_seq });
    }
    if (s.last_seq < s.first_seq || s.last_ts < s.first_ts) {
      throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `${at}: its sequence or time range is reversed`, { tenant, object: where, segment: s.key, seq: s.first_seq });
    }
    const expected = prev === null ? 1 : prev.last_seq + 1;
    if (s.first_seq !== expected) {
      throw new RemError(
        "REM_ERR_SEQ_GAP",
        `${at} starts at commit ${s.first_seq}, expected ${expected} (${s.first_seq > expected ? `commits ${expected}-${s.first_seq - 1} are missing` : "overlapping segments"})`,
        { tenant, object: where, segment: s.key, seq: expected, expectedSeq: expected, actualSeq: s.first_seq },
      );
    }
    const prevHash = prev === null ? "0".repeat(64) : prev.last_hash;
    if (s.first_prev_hash !== prevHash) {
      throw new RemError("REM_ERR_CHAIN_BROKEN", `${at}: its first commit ${s.first_seq} does not extend ${prev === null ? "the genesis" : `segment ${prev.key}`} (prev_hash mismatch)`, {
        tenant,
        object: where, segment: s.key,
        seq: s.first_seq,
      });
    }
    if (prev !== null && s.first_ts < prev.last_ts) {
      throw new RemError("REM_ERR_CLOCK_REGRESSION", `${at}: its first commit ${s.first_seq} is older than the previous segment's last`, { tenant, object: where, segment: s.key, seq: s.first_seq });
    }
    prev = s;
  }
  const head = m.head;
  if ((head === null) !== (prev === null) || (head !== null && prev !== null && (head.seq !== prev.last_seq || head.hash !== prev.last_hash || head.ts !== prev.last_ts))) {
    throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `${where}: the head (${head === null ? "none" : `commit ${head.seq}`}) does not match the last segment (${prev === null ? "none" : prev.key})`, {
      tenant,
      object: where,
      seq: head?.seq ?? prev?.last_seq ?? 0,
    });
  }
  for (const snap of m.snapshots) {
    if (head === null || snap.seq > head.seq) {
      throw new RemError("REM_ERR_ARCHIVE_CORRUPT", `${where}: snapshot at commit ${snap.seq} is beyond the archived head`, { tenant, object: where, seq: snap.seq });
    }
  }
}

/**
 * Checks the manifest's signed head on its own: its signer is trusted and its
 * signature verifies over its hash. (A verifier also checks that the last
 * archived commit carries exactly this hash and signature.)
 */
export function checkHeadSignature(m: Manifest, trusted: TrustedKeys, where: string): void {
  const head = m.head;
  if (head === null) return;
  const key = trusted.get(head.key_id);
  if (key === undefined) {
    throw new RemError("REM_ERR_UNKNOWN_KEY", `${where}: the archived head (commit ${head.seq}) is signed by key ${head.key_id}, which is not trusted here (add it with \`rem key trust\`)`, {
      tenant: m.tenant,
      object: where,
      seq: head.seq,
      keyId: head.key_id,
    });
  }
  if (!key.verify(signatureMessage(fromHex(head.hash)), new Uint8Array(Buffer.from(head.signature, "base64")))) {
    throw new RemError("REM_ERR_BAD_SIGNATURE", `${where}: the signature of the archived head (commit ${head.seq}) does not verify with key ${head.key_id}`, {
      tenant: m.tenant,
      object: where,
      seq: head.seq,
      keyId: head.key_id,
    });
  }
}

export function encodeManifest(m: Manifest): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(m, null, 1) + "\n", "utf8"));
}

/** The tenant's manifest, or null when nothing was archived for it yet. */
export async function readManifest(store: ObjectStore, tenant: TenantName): Promise<{ manifest: Manifest; etag: string | undefined } | null> {
  const key = manifestKey(tenant);
  // The ETag lets a writer notice another archiver replacing the manifest (see archiver.ts).
  const info = await store.head(key);
  if (info === null) return null;
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (err) {
    if (err instanceof RemError && err.code === "REM_ERR_ARCHIVE_NOT_FOUND") return null;
    throw err;
  }
  return { manifest: parseManifest(bytes, tenant, store.url(key)), etag: info.etag };
}

/** Like readManifest, but a missing manifest is REM_ERR_ARCHIVE_NOT_FOUND saying so. */
export async function requireManifest(store: ObjectStore, tenant: TenantName): Promise<Manifest> {
  const r = await readManifest(store, tenant);
  if (r === null) {
    throw new RemError("REM_ERR_ARCHIVE_NOT_FOUND", `no archive of tenant ${tenant} at ${store.url(tenantPrefix(tenant))} (${store.url(manifestKey(tenant))} does not exist)`, {
      tenant,
      object: store.url(manifestKey(tenant)),
    });
  }
  return r.manifest;
}

/** The segment holding commit `seq`, or undefined. */
export function segmentFor(m: Manifest, seq: number): ManifestSegment | undefined {
  const segs = m.segments;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid]!;
    if (seq < s.first_seq) hi = mid - 1;
    else if (seq > s.last_seq) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** The head as the manifest records it, from the last commit of the archive. */
export function headOf(commit: { seq: number; hash: Uint8Array; ts: number; commitId: string; keyId: string; signature: Uint8Array }): ManifestHead {
  return {
    seq: commit.seq,
    hash: toHex(commit.hash),
    ts: commit.ts,
    commit_id: commit.commitId,
    key_id: commit.keyId,
    signature: Buffer.from(commit.signature).toString("base64"),
  };
}
