import type { CommitId, Seq, TenantName } from "../model/ids.js";

/**
 * A commit as a backend stores it: its sequence and its exact bytes
 * (docs/event-format.md §3). Backends never interpret the bytes beyond what
 * they need (the file log peeks at seq, commit id and ts).
 */
export interface RawCommit {
  readonly seq: Seq;
  readonly bytes: Uint8Array;
}

export interface AppendRequest {
  /** The commit must land exactly here: the log's last sequence must be `seq - 1`. */
  readonly seq: Seq;
  /** Deduplication key; a commit id seen within the dedup window is not stored twice. */
  readonly commitId: CommitId;
  readonly bytes: Uint8Array;
  /**
   * Set when the predecessor (seq - 1) was built by this writer and not yet
   * acknowledged: the backend must then also check that the last stored commit
   * is that one, so a pipelined commit never lands after a foreign commit.
   */
  readonly prevCommitId?: CommitId | undefined;
}

export interface AppendAck {
  /** Where the commit is stored; for a duplicate, where the original is. */
  readonly seq: Seq;
  readonly duplicate: boolean;
}

export interface ReadOptions {
  /** Last sequence to return (inclusive). Defaults to the head when the read starts. */
  readonly until?: Seq | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface FollowOptions {
  readonly signal: AbortSignal;
}

export type BackendKind = "file" | "jetstream";

/**
 * One tenant's append-only commit log. Both backends (embedded file segments,
 * NATS JetStream) pass the same contract suite (test/contract/log-backend.contract.ts).
 *
 * Guarantees:
 * - `append` resolves only once the commit is durable by the backend's standard
 *   (file: fdatasync; JetStream: the server's ack, see docs/operations.md on fsync).
 * - Sequences start at 1 and have no gaps; a stored commit never changes.
 * - A conflicting append (wrong `seq` or `prevCommitId`) rejects with
 *   REM_ERR_LOG_CONFLICT and stores nothing.
 * - `read` and `follow` yield every commit in order exactly once.
 */
export interface LogBackend {
  readonly kind: BackendKind;
  readonly tenant: TenantName;
  /** Largest commit, in bytes, this backend accepts. */
  readonly maxCommitBytes: number;
  /** The last durable commit, or null when the log is empty. */
  last(): Promise<RawCommit | null>;
  append(request: AppendRequest): Promise<AppendAck>;
  /** Commits from `from` to the head (as of the call, or `until`), in order, in batches. */
  read(from: Seq, options?: ReadOptions): AsyncIterable<RawCommit[]>;
  /** Commits from `from` onwards, waiting for new ones until `signal` aborts (then it ends quietly). */
  follow(from: Seq, options: FollowOptions): AsyncIterable<RawCommit[]>;
  close(): Promise<void>;
  /** Networked backends: whether the connection is up right now (undefined: always local). */
  readonly connected?: boolean;
}

/**
 * Commits are capped at 1 MiB minus 256 bytes on both backends, so logs move
 * freely between them: NATS' default max_payload is 1 MiB and it counts the
 * ~170 bytes of headers each commit message carries.
 */
export const DEFAULT_MAX_COMMIT_BYTES = 1024 * 1024 - 256;
