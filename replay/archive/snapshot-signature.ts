import { RemError } from "../../src/errors.js";
import type { TrustedKeys } from "../../events/chain-verifier.js";
import { blake3, utf8 } from "../../events/hash.js";
import type { Signer } from "../../events/signing.js";
import type { ManifestSnapshot } from "./manifest.js";

/**
 * Projection snapshots are signed (docs/event-format.md §10.4): the log is
 * authenticated commit by commit, but a snapshot is a dump of derived state
 * that a restore loads as it is. Without a signature, anyone able to write to
 * the bucket could plant entities that no commit ever wrote.
 *
 * The signed statement binds the tenant, the checkpoint (seq, chain hash, ts),
 * the store format and every object (key, size, BLAKE3), one field per line:
 *
 *   tenant \n seq \n hash \n ts \n store_format \n (key \n bytes \n blake3 \n)*
 *
 * and the Ed25519 signature is over "rem/snapshot/v1" ‖ BLAKE3-256(statement).
 * `created_at` is informational and not signed.
 */
const CONTEXT = utf8("rem/snapshot/v1");

type Signed = Pick<ManifestSnapshot, "seq" | "hash" | "ts" | "store_format" | "objects">;

/** The bytes a snapshot's signature covers. */
export function snapshotSignatureMessage(tenant: string, s: Signed): Uint8Array {
  let statement = `${tenant}\n${s.seq}\n${s.hash}\n${s.ts}\n${s.store_format}\n`;
  for (const o of s.objects) statement += `${o.key}\n${o.bytes}\n${o.blake3}\n`;
  const digest = blake3(utf8(statement));
  const m = new Uint8Array(CONTEXT.length + digest.length);
  m.set(CONTEXT, 0);
  m.set(digest, CONTEXT.length);
  return m;
}

/** The `key_id` and `signature` members of a snapshot entry, signed by the node's key. */
export function signSnapshot(tenant: string, s: Signed, signer: Signer): { key_id: string; signature: string } {
  return { key_id: signer.keyId, signature: Buffer.from(signer.sign(snapshotSignatureMessage(tenant, s))).toString("base64") };
}

/**
 * Checks that a snapshot entry is signed by a trusted key over exactly these
 * members. An unsigned entry (written before snapshots were signed) is refused
 * like a bad signature: a restore can always go without it (`--no-snapshot`).
 */
export function checkSnapshotSignature(tenant: string, s: ManifestSnapshot, trusted: TrustedKeys, where: string): void {
  const details = { tenant, object: where, seq: s.seq };
  if (s.key_id === undefined || s.signature === undefined) {
    throw new RemError("REM_ERR_BAD_SIGNATURE", `${where}: the projection snapshot at commit ${s.seq} is not signed; restore with --no-snapshot (replays the log instead)`, details);
  }
  const key = trusted.get(s.key_id);
  if (key === undefined) {
    throw new RemError("REM_ERR_UNKNOWN_KEY", `${where}: the projection snapshot at commit ${s.seq} is signed by key ${s.key_id}, which is not trusted here (add it with \`rem key trust\`, or restore with --no-snapshot)`, {
      ...details,
      keyId: s.key_id,
    });
  }
  if (!key.verify(snapshotSignatureMessage(tenant, s), new Uint8Array(Buffer.from(s.signature, "base64")))) {
    throw new RemError("REM_ERR_BAD_SIGNATURE", `${where}: the signature of the projection snapshot at commit ${s.seq} does not verify with key ${s.key_id}; restore with --no-snapshot`, {
      ...details,
      keyId: s.key_id,
    });
  }
}
