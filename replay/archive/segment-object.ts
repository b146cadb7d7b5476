import { blake3, toHex } from "../../events/hash.js";
import { putImmutable } from "./immutable.js";
import { objectKey, segmentKey, type ManifestSegment } from "./manifest.js";
import type { ObjectStore } from "./object-store.js";
import { encodeSegment } from "./segment-writer.js";

/** The chain facts of a run of commits that a manifest entry records (everything but the object's own key, size and hash). */
export type SegmentChain = Pick<ManifestSegment, "first_seq" | "last_seq" | "first_prev_hash" | "last_hash" | "first_ts" | "last_ts">;

/**
 * Encodes commits as one segment object (the embedded log's format), uploads
 * it under its immutable key (putImmutable: an identical object already there
 * is kept), and returns the manifest entry that lists it. The caller writes the
 * manifest afterwards: an object is always uploaded before any manifest names it.
 */
export async function putSegment(
  store: ObjectStore,
  tenant: string,
  commits: readonly Uint8Array[],
  chain: SegmentChain,
): Promise<{ entry: ManifestSegment; key: string; bytes: number; uploaded: boolean }> {
  const { bytes } = encodeSegment(tenant, chain.first_seq, commits);
  const digest = toHex(blake3(bytes));
  const entry: ManifestSegment = { key: segmentKey(chain.first_seq, chain.last_seq), ...chain, bytes: bytes.length, blake3: digest };
  const key = objectKey(tenant, entry.key);
  const uploaded = await putImmutable(store, key, bytes, digest, {
    tenant,
    seq: chain.first_seq,
    metadata: { "first-seq": String(chain.first_seq), "last-seq": String(chain.last_seq) },
  });
  return { entry, key, bytes: bytes.length, uploaded };
}
