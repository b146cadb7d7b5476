import { jetstreamManager, type JetStreamClient, type JetStreamManager, type PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { RemError } from "../../../src/errors.js";
import type { Seq, TenantName } from "../../model/ids.js";
import { DEFAULT_MAX_COMMIT_BYTES, type AppendAck, type AppendRequest, type FollowOptions, type LogBackend, type RawCommit, type ReadOptions } from "../types.js";
import { ConnectionWatch } from "./connection-watch.js";
import { toRemError } from "./errors.js";
import { readCommits } from "./reader.js";
import { commitSubject, DEFAULT_DUPLICATE_WINDOW_MS, ensureStream, PUBLISH_HEADER_RESERVE, streamCommitLimit, streamName, streamSubjects } from "./stream.js";

export interface JetStreamLogOptions {
  readonly nc: NatsConnection;
  readonly tenant: TenantName;
  /** Stream replicas when creating the stream (default 1; a clustered server needs 3 for fault tolerance). */
  readonly replicas?: number;
  /** A commit id seen within this window is recognised as a retry (default 2 minutes). Only used when creating the stream. */
  readonly duplicateWindowMs?: number;
  /** Default DEFAULT_MAX_COMMIT_BYTES; capped by the server's max_payload and the stream's max_msg_size, minus header room. */
  readonly maxCommitBytes?: number;
  /** Create the stream when missing (default true); otherwise a missing stream is REM_ERR_NOT_FOUND. */
  readonly create?: boolean;
  /** close() also closes `nc` (default false). */
  readonly ownsConnection?: boolean;
  /** How long to wait for a JetStream answer (publish ack, API call); default 5000 ms. */
  readonly timeoutMs?: number;
  /** How long read() keeps trying to (re)create its consumer while JetStream is unreachable; default 10 s. */
  readonly readRetryMs?: number;
}

/**
 * A tenant's log in a NATS JetStream stream `REM_<tenant>` (see stream.ts): one
 * message per commit on `rem.<tenant>.commit`, stream sequence = commit sequence.
 *
 * Guarantees, on top of the LogBackend contract:
 * - `append` resolves once the server acknowledged the commit: written to the
 *   stream's files (and to a quorum when replicas > 1). An ack is not an fsync:
 *   nats-server 2.9 syncs its files on a timer (and has no `sync_interval`
 *   setting), so with one replica an acked commit survives a server crash but
 *   not a power loss of its host (docs/operations.md).
 * - Sequencing is enforced by the server, across all writers: every append
 *   expects the stream's last sequence to be `seq - 1` (also for seq 1, which
 *   expects an empty stream) and, with `prevCommitId`, the last message id to be
 *   that commit. A mismatch is REM_ERR_LOG_CONFLICT and stores nothing.
 * - The commit id is the message id: a retry within the duplicate window
 *   resolves with `duplicate: true` and the original's sequence, storing nothing.
 *   After REM_ERR_LOG_UNAVAILABLE (timeout, disconnect) the commit may or may not
 *   be stored: retry with the same commit id. (After the window, a retry of a
 *   stored commit is a REM_ERR_LOG_CONFLICT instead.) The window and the last
 *   message id survive server restarts.
 * - `read` and `follow` survive reconnects (see reader.ts).
 */
export class JetStreamLog implements LogBackend {
  readonly kind = "jetstream" as const;
  readonly tenant: TenantName;
  readonly maxCommitBytes: number;
  readonly streamName: string;

  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #conn: ConnectionWatch;
  readonly #subject: string;
  readonly #streamFilter: string;
  readonly #ownsConnection: boolean;
  readonly #timeoutMs: number;
  readonly #readRetryMs: number;
  /** Aborted by close(): stops every read and follow. */
  readonly #closing = new AbortController();
  #closed = false;

  private constructor(o: JetStreamLogOptions, conn: ConnectionWatch, jsm: JetStreamManager, maxCommitBytes: number) {
    this.tenant = o.tenant;
    this.maxCommitBytes = maxCommitBytes;
    this.streamName = streamName(o.tenant);
    this.#nc = o.nc;
    this.#conn = conn;
    this.#jsm = jsm;
    this.#js = jsm.jetstream();
    this.#subject = commitSubject(o.tenant);
    this.#streamFilter = streamSubjects(o.tenant)[0]!;
    this.#ownsConnection = o.ownsConnection ?? false;
    this.#timeoutMs = o.timeoutMs ?? 5_000;
    this.#readRetryMs = o.readRetryMs ?? 10_000;
  }

  /** Opens the tenant's log, creating its stream unless `create: false`. */
  static async open(o: JetStreamLogOptions): Promise<JetStreamLog> {
    const conn = new ConnectionWatch(o.nc);
    try {
      const replicas = o.replicas ?? 1;
      const duplicateWindowMs = o.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
      const wanted = o.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES;
      checkPositiveInt("replicas", replicas, o.tenant);
      checkPositiveInt("duplicateWindowMs", duplicateWindowMs, o.tenant);
      checkPositiveInt("maxCommitBytes", wanted, o.tenant);
      const ctx = { tenant: o.tenant, op: "opening the log" };
      const serverMax = o.nc.info?.max_payload;
      if (serverMax === undefined) throw new RemError("REM_ERR_LOG_CLOSED", `tenant ${o.tenant}: the NATS connection is closed`, { tenant: o.tenant });
      // Headers count against max_payload: leave them room.
      let maxCommitBytes = Math.max(0, Math.min(wanted, serverMax - PUBLISH_HEADER_RESERVE));
      let jsm: JetStreamManager;
      try {
        jsm = await jetstreamManager(o.nc, { timeout: o.timeoutMs ?? 5_000 });
      } catch (err) {
        throw toRemError(err, ctx);
      }
      const info = await ensureStream(jsm, { tenant: o.tenant, replicas, duplicateWindowMs, maxCommitBytes, create: o.create ?? true });
      // An existing stream may have been created with a smaller limit.
      maxCommitBytes = Math.min(maxCommitBytes, streamCommitLimit(info) ?? maxCommitBytes);
      return new JetStreamLog(o, conn, jsm, maxCommitBytes);
    } catch (err) {
      conn.stop();
      if (o.ownsConnection === true) await o.nc.close().catch(() => undefined);
      throw err;
    }
  }

  /** The stream's last message (whatever its subject, so a stray message is seen rather than skipped), or null. */
  async last(): Promise<RawCommit | null> {
    this.#assertOpen();
    await this.#connected("reading the last commit");
    try {
      const m = await this.#jsm.streams.getMessage(this.streamName, { last_by_subj: this.#streamFilter });
      return m === null ? null : { seq: m.seq as Seq, bytes: m.data };
    } catch (err) {
      throw toRemError(err, { tenant: this.tenant, op: "reading the last commit" });
    }
  }

  async append(request: AppendRequest): Promise<AppendAck> {
    this.#assertOpen();
    const { seq, commitId, bytes, prevCommitId } = request;
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new RemError("REM_ERR_INVALID_ARGUMENT", `append at ${seq}: sequences start at 1`, { tenant: this.tenant, seq });
    }
    if (bytes.length > this.maxCommitBytes) {
      throw new RemError("REM_ERR_COMMIT_TOO_LARGE", `commit is ${bytes.length} bytes; the limit is ${this.maxCommitBytes}`, {
        tenant: this.tenant,
        seq,
        size: bytes.length,
        limit: this.maxCommitBytes,
      });
    }
    await this.#connected(`appending commit ${seq}`, seq);
    let ack: PubAck;
    try {
      ack = await this.#js.publish(this.#subject, bytes, {
        msgID: commitId,
        timeout: this.#timeoutMs,
        // nats.js sends lastSequence 0 too, and the server enforces it (an empty stream), so seq 1 is as safe as any.
        expect: prevCommitId === undefined ? { lastSequence: seq - 1 } : { lastSequence: seq - 1, lastMsgID: prevCommitId },
      });
    } catch (err) {
      throw toRemError(err, { tenant: this.tenant, op: `appending commit ${seq}`, seq, prevCommitId });
    }
    if (ack.stream !== this.streamName) {
      throw new RemError("REM_ERR_INTERNAL", `tenant ${this.tenant}: commit ${seq} was stored in stream ${ack.stream}, not ${this.streamName}`, { tenant: this.tenant, seq });
    }
    if (ack.duplicate) return { seq: ack.seq as Seq, duplicate: true };
    if (ack.seq !== seq) {
      // The expectations make this impossible; if it happens the log is no longer what we think it is.
      throw new RemError("REM_ERR_INTERNAL", `tenant ${this.tenant}: commit meant for ${seq} was stored at ${ack.seq}`, {
        tenant: this.tenant,
        expectedSeq: seq,
        actualSeq: ack.seq,
      });
    }
    return { seq, duplicate: false };
  }

  async *read(from: Seq, options: ReadOptions = {}): AsyncGenerator<RawCommit[]> {
    checkFrom(from, this.tenant);
    this.#assertOpen();
    await this.#connected("reading the head");
    let head: number;
    try {
      head = (await this.#jsm.streams.info(this.streamName)).state.last_seq;
    } catch (err) {
      throw toRemError(err, { tenant: this.tenant, op: "reading the head" });
    }
    const until = Math.min(options.until ?? head, head);
    if (from > until || options.signal?.aborted) return;
    const complete = yield* this.#run(from, until, options.signal, this.#readRetryMs);
    if (!complete && !options.signal?.aborted) {
      throw new RemError("REM_ERR_LOG_CLOSED", `tenant ${this.tenant}: the log was closed during a read`, { tenant: this.tenant });
    }
  }

  async *follow(from: Seq, options: FollowOptions): AsyncGenerator<RawCommit[]> {
    checkFrom(from, this.tenant);
    if (this.#closed) return;
    yield* this.#run(from, null, options.signal, Infinity);
  }

  /** Whether the NATS connection is up right now (a replica reports it). */
  get connected(): boolean {
    return !this.#closed && this.#conn.connected;
  }

  /** Stops every read and follow; closes the connection only when the log owns it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#conn.stop();
    if (this.#ownsConnection) await this.#nc.close();
  }

  async *#run(from: number, until: number | null, signal: AbortSignal | undefined, retryForMs: number): AsyncGenerator<RawCommit[], boolean> {
    // One controller per reader, aborted by the caller's signal or by close().
    const ctl = new AbortController();
    const abort = (): void => ctl.abort();
    signal?.addEventListener("abort", abort, { once: true });
    this.#closing.signal.addEventListener("abort", abort, { once: true });
    if (signal?.aborted || this.#closed) ctl.abort();
    try {
      return yield* readCommits({ js: this.#js, nc: this.#nc, conn: this.#conn, tenant: this.tenant, stream: this.streamName, from, until, signal: ctl.signal, retryForMs });
    } finally {
      signal?.removeEventListener("abort", abort);
      this.#closing.signal.removeEventListener("abort", abort);
    }
  }

  /**
   * Waits (up to the timeout) while the connection is down: nats.js would drop a
   * request sent now and only report it at its timeout. Nothing is sent if it
   * stays down.
   */
  async #connected(op: string, seq?: number): Promise<void> {
    if (this.#conn.connected) return;
    if (await this.#conn.waitConnected(this.#timeoutMs, this.#closing.signal)) return;
    this.#assertOpen();
    throw new RemError("REM_ERR_LOG_UNAVAILABLE", `tenant ${this.tenant}: ${op}: not connected to NATS (nothing was sent)`, { tenant: this.tenant, seq });
  }

  #assertOpen(): void {
    if (this.#closed) throw new RemError("REM_ERR_LOG_CLOSED", `tenant ${this.tenant}: the log is closed`, { tenant: this.tenant });
  }
}

function checkFrom(from: number, tenant: TenantName): void {
  if (!Number.isSafeInteger(from) || from < 1) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `read from ${from}: sequences start at 1`, { tenant });
  }
}

function checkPositiveInt(field: string, value: number, tenant: TenantName): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `${field} must be a positive integer, got ${value}`, { tenant, field });
  }
}
