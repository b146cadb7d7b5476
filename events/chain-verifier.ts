import { RemError } from "../src/errors.js";
import { parseCommit, type ParsedCommit } from "./codec/commit.js";
import { signatureMessage } from "./commit-builder.js";
import { blake3, bytesEqual, toHex, ZERO_HASH } from "./hash.js";
import type { CommitId, KeyId, Seq, TenantName } from "./model/ids.js";
import type { VerifyKey } from "./signing.js";

/** Where a chain stands: the last verified commit's sequence, hash and timestamp. */
export interface ChainPosition {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly ts: number;
}

export const GENESIS: ChainPosition = { seq: 0, hash: ZERO_HASH, ts: 0 };

/** Trusted signing keys by key id (hex). */
export interface TrustedKeys {
  get(keyId: string): VerifyKey | undefined;
}

/** A commit whose structure, chain link, key and signature (or a later one's) have been checked. */
export interface VerifiedCommit {
  readonly seq: Seq;
  readonly ts: number;
  readonly commitId: CommitId;
  readonly hash: Uint8Array;
  readonly keyId: KeyId;
  readonly encrypted: boolean;
  readonly dataKeyId: KeyId | null;
  readonly count: number;
  readonly parsed: ParsedCommit;
}

export type SignatureMode =
  /** Verify every commit's signature (`rem verify`). */
  | "all"
  /**
   * Verify the last commit of each batch before releasing the batch. Because each
   * commit's hash covers its predecessor's, one valid signature on commit N
   * authenticates the content of every commit before it; signature bytes of
   * earlier commits are left unchecked. ~1 Ed25519 verify per batch instead of
   * per commit, which is what lets replay run at hundreds of thousands of events/s.
   */
  | "batch";

/**
 * Checks a tenant's commits in order. Detects flipped bytes (signature or hash
 * link), reordered, missing or replayed commits (sequence and prev_hash),
 * commits from another tenant, unknown writers and forged signatures.
 */
export class ChainVerifier {
  #position: ChainPosition | null;
  #pending: VerifiedCommit | null = null;
  readonly #tenant: TenantName;
  readonly #keys: TrustedKeys;
  readonly #mode: SignatureMode;

  /**
   * @param after the position the first pushed commit must extend; `null` starts
   *   unanchored (the first commit's prev_hash is taken as given), for reads that
   *   begin mid-log without a checkpoint.
   */
  constructor(tenant: TenantName, keys: TrustedKeys, mode: SignatureMode, after: ChainPosition | null) {
    this.#tenant = tenant;
    this.#keys = keys;
    this.#mode = mode;
    this.#position = after;
  }

  get position(): ChainPosition | null {
    return this.#position;
  }

  /** Checks one commit. In "batch" mode its signature may be deferred to flush(). */
  push(bytes: Uint8Array, storedSeq: number): VerifiedCommit {
    const tenant = this.#tenant;
    let parsed: ParsedCommit;
    try {
      parsed = parseCommit(bytes, storedSeq);
    } catch (err) {
      if (err instanceof RemError) err.details.tenant = tenant;
      throw err;
    }
    const h = parsed.header;
    if (h.tenant !== tenant) {
      throw new RemError("REM_ERR_TENANT_MISMATCH", `commit ${h.seq} belongs to tenant ${h.tenant}, not ${tenant}`, { tenant, seq: h.seq });
    }
    if (h.seq !== storedSeq) {
      throw new RemError("REM_ERR_SEQ_GAP", `tenant ${tenant}: the commit stored at position ${storedSeq} says it is commit ${h.seq} (commits reordered or copied)`, {
        tenant,
        seq: storedSeq,
        actualSeq: h.seq,
      });
    }
    const prev = this.#position;
    if (prev !== null) {
      if (h.seq !== prev.seq + 1) {
        throw new RemError(
          "REM_ERR_SEQ_GAP",
          `tenant ${tenant}: expected commit ${prev.seq + 1} after ${prev.seq}, found ${h.seq} (${h.seq > prev.seq + 1 ? "missing commits" : "reordered or repeated commit"})`,
          { tenant, seq: prev.seq + 1, expectedSeq: prev.seq + 1, actualSeq: h.seq },
        );
      }
      if (!bytesEqual(h.prevHash, prev.hash)) {
        throw new RemError(
          "REM_ERR_CHAIN_BROKEN",
          `tenant ${tenant}: commit ${h.seq} does not extend commit ${prev.seq} (prev_hash mismatch: a commit was altered, replaced or reordered)`,
          { tenant, seq: h.seq },
        );
      }
      if (h.ts < prev.ts) {
        throw new RemError("REM_ERR_CLOCK_REGRESSION", `tenant ${tenant}: commit ${h.seq} has ts ${h.ts}, before commit ${prev.seq}'s ${prev.ts}`, { tenant, seq: h.seq });
      }
    } else if (h.seq === 1 && !bytesEqual(h.prevHash, ZERO_HASH)) {
      throw new RemError("REM_ERR_CHAIN_BROKEN", `tenant ${tenant}: commit 1 must have an all-zero prev_hash`, { tenant, seq: 1 });
    }
    const keyIdHex = toHex(h.keyId) as KeyId;
    if (this.#keys.get(keyIdHex) === undefined) {
      throw new RemError("REM_ERR_UNKNOWN_KEY", `tenant ${tenant}: commit ${h.seq} is signed by key ${keyIdHex}, which is not trusted here (add it with \`rem key trust\`)`, {
        tenant,
        seq: h.seq,
        keyId: keyIdHex,
      });
    }
    const hash = blake3(parsed.unsigned);
    const commit: VerifiedCommit = {
      seq: h.seq as Seq,
      ts: h.ts,
      commitId: toHex(h.commitId) as CommitId,
      hash,
      keyId: keyIdHex,
      encrypted: h.encrypted,
      dataKeyId: h.encrypted ? (toHex(h.dataKeyId) as KeyId) : null,
      count: h.count,
      parsed,
    };
    this.#position = { seq: h.seq, hash, ts: h.ts };
    if (this.#mode === "all") {
      this.#checkSignature(commit, commit.seq);
    } else {
      this.#pending = commit;
    }
    return commit;
  }

  /** Verifies the deferred signature, which authenticates every commit pushed so far. */
  flush(): void {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    this.#checkSignature(pending, pending.seq);
  }

  #checkSignature(commit: VerifiedCommit, seq: number): void {
    const key = this.#keys.get(commit.keyId)!;
    if (!key.verify(signatureMessage(commit.hash), commit.parsed.signature)) {
      throw new RemError(
        "REM_ERR_BAD_SIGNATURE",
        `tenant ${this.#tenant}: commit ${seq} has a signature that does not verify with key ${commit.keyId} (forged or corrupted)`,
        { tenant: this.#tenant, seq, keyId: commit.keyId },
      );
    }
  }
}
