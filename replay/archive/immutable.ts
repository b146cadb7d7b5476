import { RemError } from "../../src/errors.js";
import { blake3, toHex } from "../../events/hash.js";
import type { ObjectStore } from "./object-store.js";

/**
 * Uploads an archive object under a key that is never overwritten: when an
 * object is already there (a run that stopped before writing its manifest),
 * it must be byte-identical, and nothing is uploaded. Returns whether it
 * uploaded. `digest` is the BLAKE3 of `bytes`, stored as object metadata so
 * the identity check needs no download.
 */
export async function putImmutable(
  store: ObjectStore,
  key: string,
  bytes: Uint8Array,
  digest: string,
  context: { tenant: string; seq: number; metadata?: Record<string, string> },
): Promise<boolean> {
  const existing = await store.head(key);
  if (existing === null) {
    await store.put(key, bytes, { metadata: { blake3: digest, ...context.metadata } });
    return true;
  }
  const differs = existing.size !== bytes.length || (existing.metadata?.blake3 !== undefined ? existing.metadata.blake3 !== digest : toHex(blake3(await store.get(key))) !== digest);
  if (differs) {
    throw new RemError("REM_ERR_ARCHIVE_CONFLICT", `${store.url(key)} already exists with other content; archive objects are never overwritten`, {
      tenant: context.tenant,
      object: store.url(key),
      seq: context.seq,
    });
  }
  return false;
}
