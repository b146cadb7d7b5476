import { isRemError, RemError } from "../../src/errors.js";
import { ChainVerifier, GENESIS, type ChainPosition, type SignatureMode, type TrustedKeys, type VerifiedCommit } from "../chain-verifier.js";
import { encodeEventsTransient, type EventsWithData } from "../codec/events-codec.js";
import { FIXED_HEADER, parseCommit, SIGNATURE_LENGTH } from "../codec/commit.js";
import { buildCommit, builtPayload, deriveCommitId, type BuiltCommit, type DataKey } from "../commit-builder.js";
import { TAG_LENGTH } from "../encryption.js";
import { toHex } from "../hash.js";
import type { CommitId, Seq, TenantName } from "../model/ids.js";
import type { Event } from "../model/events.js";
import { validateForEncoding } from "../model/validate.js";
import { commitEvents, commitEventsWithData, type DataKeyResolver } from "../payload.js";
import type { Signer } from "../signing.js";
import type { BackendKind, LogBackend } from "./types.js";

export interface TenantLogOptions {
  readonly backend: LogBackend;
  /** Keys whose signatures this node accepts. */
  readonly trusted: TrustedKeys;
  /** Needed to append. */
  readonly signer?: Signer | undefined;
  /** New commits are encrypted under this key when set. */
  readonly encryptWith?: DataKey | undefined;
  /** Resolves data keys for reading encrypted commits. */
  readonly dataKeys?: DataKeyResolver | undefined;
  /** How many times a plain append re-reads the head and retries after losing a race (default 50). */
  readonly maxConflictRetries?: number;
  readonly clock?: () => number;
}

export interface AppendOptions {
  /** Optimistic concurrency: the append fails with REM_ERR_LOG_CONFLICT unless the log's last sequence is this. */
  readonly expectedSeq?: Seq | undefined;
  /** Defaults to a hash of the tenant and the event ids (retrying the same events is idempotent). */
  readonly commitId?: CommitId | undefined;
}

export interface AppendResult {
  readonly seq: Seq;
  readonly commitId: CommitId;
  /** true when this commit id was already in the log: nothing new was written. */
  readonly duplicate: boolean;
  readonly count: number;
  /** Hex BLAKE3 of the stored commit; absent for duplicates. */
  readonly hash?: string | undefined;
}

export interface LogReadOptions {
  /** The chain position the first commit must extend (a projection's checkpoint). */
  readonly after?: ChainPosition | null | undefined;
  readonly until?: Seq | undefined;
  readonly signatures?: SignatureMode | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface Head {
  readonly seq: Seq;
  /** Hex hash of the last commit (zeros for an empty log). */
  readonly hash: string;
  readonly ts: number;
}

interface WriteHead {
  seq: number;
  hash: Uint8Array;
  ts: number;
  commitId: CommitId | null;
  /** false while the commit is in flight: the next one must name it as its predecessor. */
  confirmed: boolean;
}

/**
 * A tenant's log as REM uses it: commits built, signed and optionally encrypted
 * on append; verified (chain, keys, signatures) on read. Concurrent appends are
 * pipelined: each is chained on the previous one before it is acknowledged.
 */
export class TenantLog {
  readonly #o: TenantLogOptions;
  #head: WriteHead | null = null;
  #headLoad: Promise<WriteHead> | null = null;
  #epoch = 0;
  #closed = false;

  private constructor(options: TenantLogOptions) {
    this.#o = options;
  }

  static async open(options: TenantLogOptions): Promise<TenantLog> {
    const log = new TenantLog(options);
    // A writer learns (and verifies) the head up front; a reader never needs it.
    if (options.signer !== undefined) await log.#loadHead();
    return log;
  }

  get tenant(): TenantName {
    return this.#o.backend.tenant;
  }

  get backendKind(): BackendKind {
    return this.#o.backend.kind;
  }

  get backend(): LogBackend {
    return this.#o.backend;
  }

  get encrypted(): boolean {
    return this.#o.encryptWith !== undefined;
  }

  /** The durable head as the backend reports it now (verified). */
  async head(): Promise<Head> {
    const h = await this.#readHead();
    return { seq: h.seq as Seq, hash: toHex(h.hash), ts: h.ts };
  }

  /**
   * Appends events as one atomic commit. Events are validated first: an invalid
   * event rejects the whole commit with REM_ERR_EVENT_INVALID and nothing is written.
   */
  async append(events: readonly Event[], options: AppendOptions = {}): Promise<AppendResult> {
    const signer = this.#o.signer;
    if (signer === undefined) throw new RemError("REM_ERR_PASSPHRASE_REQUIRED", "appending needs the node's signing key (unlock it with the passphrase)", { tenant: this.tenant });
    if (events.length === 0) throw new RemError("REM_ERR_COMMIT_EMPTY", "a commit holds at least one event", { tenant: this.tenant });
    const valid = validateForEncoding(events);
    // A view into msgpackr's shared buffer, which the next encode (any append's) overwrites:
    // it is copied into the commit, or made our own, before this call first awaits.
    let payload = encodeEventsTransient(valid);
    let transient = true;
    const own = (): void => {
      if (transient) payload = new Uint8Array(payload);
      transient = false;
    };
    /** Set when the payload was used in place: retries take the plaintext from this commit. */
    let retryFrom: BuiltCommit | null = null;
    const size = FIXED_HEADER + this.tenant.length + payload.length + (this.encrypted ? TAG_LENGTH : 0) + SIGNATURE_LENGTH;
    const max = this.#o.backend.maxCommitBytes;
    if (size > max) {
      throw new RemError("REM_ERR_COMMIT_TOO_LARGE", `commit of ${valid.length} events is ${size} bytes; the limit is ${max}: split it into smaller commits`, {
        tenant: this.tenant,
        size,
        limit: max,
      });
    }
    const commitId = options.commitId ?? deriveCommitId(this.tenant, valid.map((e) => e.id));
    const maxRetries = this.#o.maxConflictRetries ?? 50;
    for (let attempt = 0; ; attempt++) {
      this.#assertOpen();
      if (this.#head === null) own();
      const prev = this.#head ?? (await this.#loadHead());
      if (this.#head !== prev) continue; // another append moved the head while we waited
      if (options.expectedSeq !== undefined && prev.seq !== options.expectedSeq) {
        own();
        const fresh = prev.confirmed ? await this.#reload(this.#epoch) : prev;
        if (fresh.seq !== options.expectedSeq) {
          if (await this.#landedAt(options.expectedSeq + 1, commitId)) return { seq: (options.expectedSeq + 1) as Seq, commitId, duplicate: true, count: valid.length };
          throw this.#conflict(options.expectedSeq, fresh.seq);
        }
        continue;
      }
      const epoch = this.#epoch;
      const clock = this.#o.clock ?? Date.now;
      const built = buildCommit({
        tenant: this.tenant,
        seq: (prev.seq + 1) as Seq,
        ts: Math.max(clock(), prev.ts),
        prevHash: prev.hash,
        commitId,
        payload: retryFrom === null ? payload : builtPayload(retryFrom, this.#o.encryptWith),
        count: valid.length,
        signer,
        dataKey: this.#o.encryptWith,
      });
      if (transient) {
        retryFrom = built;
        transient = false;
      }
      const mine: WriteHead = { seq: built.seq, hash: built.hash, ts: built.ts, commitId, confirmed: false };
      this.#head = mine;
      try {
        const ack = await this.#o.backend.append({
          seq: built.seq,
          commitId,
          bytes: built.bytes,
          prevCommitId: prev.confirmed ? undefined : (prev.commitId ?? undefined),
        });
        if (ack.duplicate) {
          // Our bytes were not stored; the original was. Re-learn the head from the backend.
          this.#invalidate(epoch);
          return { seq: ack.seq, commitId, duplicate: true, count: valid.length };
        }
        mine.confirmed = true;
        return { seq: ack.seq, commitId, duplicate: false, count: valid.length, hash: toHex(built.hash) };
      } catch (err) {
        this.#invalidate(epoch);
        if (!isRemError(err, "REM_ERR_LOG_CONFLICT")) throw err;
        if (options.expectedSeq !== undefined) {
          if (await this.#landedAt(options.expectedSeq + 1, commitId)) return { seq: (options.expectedSeq + 1) as Seq, commitId, duplicate: true, count: valid.length };
          const fresh = await this.#readHead();
          throw this.#conflict(options.expectedSeq, fresh.seq, err);
        }
        if (attempt >= maxRetries) throw err;
      }
    }
  }

  /** Verified commits from `from` to the head (or `until`), in batches. */
  async *read(from: Seq, options: LogReadOptions = {}): AsyncGenerator<VerifiedCommit[]> {
    const verifier = this.#verifier(from, options);
    for await (const batch of this.#o.backend.read(from, { until: options.until, signal: options.signal })) {
      yield this.#verifyBatch(verifier, batch);
    }
  }

  /** Verified commits from `from` on, following new appends until `signal` aborts. */
  async *follow(from: Seq, options: LogReadOptions & { signal: AbortSignal }): AsyncGenerator<VerifiedCommit[]> {
    const verifier = this.#verifier(from, options);
    for await (const batch of this.#o.backend.follow(from, { signal: options.signal })) {
      yield this.#verifyBatch(verifier, batch);
    }
  }

  /** Decrypts and decodes a verified commit's events. */
  events(commit: VerifiedCommit, validate = false): Event[] {
    return commitEvents(commit, this.#o.dataKeys, validate);
  }

  /** As events(), with each upsert's encoded `data` (the projection stores those bytes as they are). */
  eventsWithData(commit: VerifiedCommit): EventsWithData {
    return commitEventsWithData(commit, this.#o.dataKeys);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#o.backend.close();
  }

  #verifier(from: Seq, options: LogReadOptions): ChainVerifier {
    const after = options.after !== undefined ? options.after : from === 1 ? GENESIS : null;
    return new ChainVerifier(this.tenant, this.#o.trusted, options.signatures ?? "batch", after);
  }

  #verifyBatch(verifier: ChainVerifier, batch: readonly { seq: Seq; bytes: Uint8Array }[]): VerifiedCommit[] {
    const out = batch.map((c) => verifier.push(c.bytes, c.seq));
    verifier.flush();
    return out;
  }

  /**
   * Whether the commit at `seq` has this commit id. A retry of an append made
   * with `expectedSeq` E (its answer lost) finds the log past E: when the
   * original landed, it is exactly at E + 1, so that is the retry's answer
   * rather than a conflict.
   */
  async #landedAt(seq: number, commitId: CommitId): Promise<boolean> {
    if (seq < 1) return false;
    for await (const batch of this.#o.backend.read(seq as Seq, { until: seq as Seq })) {
      for (const c of batch) if (c.seq === seq) return toHex(parseCommit(c.bytes, seq).header.commitId) === commitId;
    }
    return false;
  }

  #conflict(expected: number, actual: number, cause?: unknown): RemError {
    return new RemError(
      "REM_ERR_LOG_CONFLICT",
      `tenant ${this.tenant}: expected the log to end at commit ${expected}, but it ends at ${actual}`,
      { tenant: this.tenant, expectedSeq: expected, actualSeq: actual },
      cause === undefined ? undefined : { cause },
    );
  }

  #assertOpen(): void {
    if (this.#closed) throw new RemError("REM_ERR_LOG_CLOSED", `tenant ${this.tenant}: the log is closed`, { tenant: this.tenant });
  }

  /** Forget the local head, once per epoch: in-flight appends built on it will fail and retry. */
  #invalidate(epoch: number): void {
    if (epoch !== this.#epoch) return;
    this.#epoch++;
    this.#head = null;
  }

  async #reload(epoch: number): Promise<WriteHead> {
    this.#invalidate(epoch);
    return this.#loadHead();
  }

  #loadHead(): Promise<WriteHead> {
    if (this.#headLoad) return this.#headLoad;
    const epoch = this.#epoch;
    const load = this.#readHead()
      .then((h) => {
        if (this.#epoch === epoch && this.#head === null) this.#head = h;
        return this.#head ?? h;
      })
      .finally(() => {
        this.#headLoad = null;
      });
    this.#headLoad = load;
    return load;
  }

  /** Reads and verifies the last stored commit: we never chain (and so vouch for) a commit we cannot verify. */
  async #readHead(): Promise<WriteHead> {
    const last = await this.#o.backend.last();
    if (last === null) return { seq: 0, hash: GENESIS.hash, ts: 0, commitId: null, confirmed: true };
    const verifier = new ChainVerifier(this.tenant, this.#o.trusted, "all", null);
    const c = verifier.push(last.bytes, last.seq);
    return { seq: c.seq, hash: c.hash, ts: c.ts, commitId: c.commitId, confirmed: true };
  }
}
