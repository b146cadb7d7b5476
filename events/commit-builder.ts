import { RemError } from "../src/errors.js";
import { allocateCommit, parseCommit, SIGNATURE_LENGTH } from "./codec/commit.js";
import { open, randomNonce, sealInto, TAG_LENGTH } from "./encryption.js";
import { blake3, fromHex, utf8 } from "./hash.js";
import { commitId as toCommitId, type CommitId, type KeyId, type Seq, type TenantName } from "./model/ids.js";
import type { Signer } from "./signing.js";

/** Domain separation for commit signatures: Ed25519 signs "rem/commit/v1" || BLAKE3(unsigned bytes). */
export const SIGNATURE_CONTEXT = utf8("rem/commit/v1");
const COMMIT_ID_CONTEXT = utf8("rem/commit-id/v1");
/** deriveCommitId's encoding buffer (synchronous use only). */
const ID_SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);

/** A tenant data key, unsealed in memory. */
export interface DataKey {
  readonly keyId: KeyId;
  readonly key: Uint8Array;
}

export function signatureMessage(hash: Uint8Array): Uint8Array {
  const m = new Uint8Array(SIGNATURE_CONTEXT.length + hash.length);
  m.set(SIGNATURE_CONTEXT, 0);
  m.set(hash, SIGNATURE_CONTEXT.length);
  return m;
}

/**
 * The commit id is derived from the tenant and the event ids, so a client that
 * retries the same events (same ids) produces the same commit id and the log
 * recognises the retry: BLAKE3("rem/commit-id/v1" || tenant || 0x00 || id1 || 0x00 || id2 …)[0..16].
 */
export function deriveCommitId(tenant: TenantName, eventIds: readonly string[]): CommitId {
  // One UTF-8 encode and one hash update: feeding BLAKE3 two tiny updates per event cost ~90 µs per 100-event commit.
  const text = eventIds.length === 0 ? tenant : `${tenant}\u0000${eventIds.join("\u0000")}`;
  // Encoded into a reused buffer when it fits (3.7 KB for 100 UUIDs): one allocation less per append.
  const fits = text.length * 3 <= ID_SCRATCH.length;
  const bytes = fits ? ID_SCRATCH.subarray(0, ID_SCRATCH.write(text, 0, "utf8")) : utf8(text);
  return toCommitId(Buffer.from(blake3(COMMIT_ID_CONTEXT, bytes).subarray(0, 16)).toString("hex"));
}

export interface BuildInput {
  tenant: TenantName;
  seq: Seq;
  ts: number;
  prevHash: Uint8Array;
  commitId: CommitId;
  /** Encoded events (events-codec), plaintext. */
  payload: Uint8Array;
  count: number;
  signer: Signer;
  dataKey?: DataKey | undefined;
}

export interface BuiltCommit {
  readonly seq: Seq;
  readonly ts: number;
  readonly commitId: CommitId;
  /** BLAKE3 of the unsigned bytes: the next commit's prev_hash. */
  readonly hash: Uint8Array;
  readonly bytes: Uint8Array;
  readonly count: number;
}

const ZERO8 = new Uint8Array(8);
const ZERO12 = new Uint8Array(12);

/** Lays out, optionally encrypts, hashes and signs one commit. */
export function buildCommit(input: BuildInput): BuiltCommit {
  if (input.count < 1) throw new RemError("REM_ERR_COMMIT_EMPTY", "a commit holds at least one event", { tenant: input.tenant });
  const encrypted = input.dataKey !== undefined;
  const nonce = encrypted ? randomNonce() : ZERO12;
  const payloadLength = input.payload.length + (encrypted ? TAG_LENGTH : 0);
  const { bytes, headerLength } = allocateCommit({
    encrypted,
    seq: input.seq,
    ts: input.ts,
    prevHash: input.prevHash,
    commitId: fromHex(input.commitId),
    keyId: fromHex(input.signer.keyId),
    dataKeyId: encrypted ? fromHex(input.dataKey!.keyId) : ZERO8,
    nonce,
    count: input.count,
    payloadLength,
    tenant: input.tenant,
  });
  if (encrypted) {
    // AAD = the header, so ciphertext cannot be moved to another commit, tenant or position.
    sealInto(bytes, headerLength, input.dataKey!.key, nonce, input.payload, bytes.subarray(0, headerLength));
  } else {
    bytes.set(input.payload, headerLength);
  }
  const unsignedEnd = headerLength + payloadLength;
  const hash = blake3(bytes.subarray(0, unsignedEnd));
  const signature = input.signer.sign(signatureMessage(hash));
  if (signature.length !== SIGNATURE_LENGTH) throw new RemError("REM_ERR_INTERNAL", "signer returned a signature of the wrong length");
  bytes.set(signature, unsignedEnd);
  return { seq: input.seq, ts: input.ts, commitId: input.commitId, hash, bytes, count: input.count };
}

/**
 * The plaintext payload of a commit built here, decrypted again when encrypted:
 * what a retried append rebuilds from, so it need not keep its own copy.
 */
export function builtPayload(built: BuiltCommit, dataKey: DataKey | undefined): Uint8Array {
  const p = parseCommit(built.bytes, built.seq);
  if (!p.header.encrypted) return p.payload;
  const plain = dataKey === undefined ? null : open(dataKey.key, p.header.nonce, p.payload, p.headerBytes);
  if (plain === null) throw new RemError("REM_ERR_INTERNAL", `commit ${built.seq}: cannot decrypt a commit built here with its data key`);
  return plain;
}
