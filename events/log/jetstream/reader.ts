import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { RemError } from "../../../src/errors.js";
import type { Seq, TenantName } from "../../model/ids.js";
import { pause } from "../pause.js";
import type { RawCommit } from "../types.js";
import { isTransient, toRemError } from "./errors.js";
import type { ConnectionWatch } from "./connection-watch.js";

/** Most commits per yielded batch (as the file log). */
export const READ_BATCH = 512;
/**
 * Most bytes per yielded batch (a batch ends at the commit that reaches it). The
 * caller hashes, then decodes, every commit of a batch: while a batch fits in the
 * CPU caches those passes read cached bytes, not memory. With 512 commits of
 * ~60 KB (30 MB) a cold BLAKE3 pass took 66 µs per commit instead of 18 µs.
 * Costs one Ed25519 verify (~125 µs) per batch in "batch" signature mode.
 */
export const READ_BATCH_BYTES = 1 << 20;
/** Messages requested per pull; nats.js pulls again when 3/4 are delivered. */
const PULL_MESSAGES = 512;
/**
 * Pull request lifetime. nats.js derives the idle heartbeat from it (half), so
 * a silently dead consumer is noticed after two missed heartbeats (~5 s).
 */
const PULL_EXPIRES_MS = 5_000;
const MAX_BACKOFF_MS = 2_000;

/**
 * Consumer notifications after which the consumer may be stalled or gone. nats.js
 * 3.4 recovers from some of them itself, but after recreating its ordered consumer
 * (e.g. following a server restart) it can sit idle for two heartbeat intervals:
 * we recreate the consumer ourselves, from our own cursor.
 */
const STALLED = new Set(["heartbeats_missed", "consumer_deleted", "consumer_not_found", "no_responders"]);

export interface ReadCommitsParams {
  readonly js: JetStreamClient;
  readonly nc: NatsConnection;
  readonly conn: ConnectionWatch;
  readonly tenant: TenantName;
  readonly stream: string;
  readonly from: number;
  /** Last sequence to yield; null follows the stream forever. */
  readonly until: number | null;
  /** Ends the read quietly (the generator returns false). */
  readonly signal: AbortSignal;
  /** How long to keep trying while the server is unreachable and nothing is read; Infinity when following. */
  readonly retryForMs: number;
}

/**
 * Commits `from`..`until` (or onwards) in order, each exactly once, in batches
 * of up to READ_BATCH commits and about READ_BATCH_BYTES. A batch is yielded as
 * soon as the consumer has nothing more pending, so a follower sees new commits at once.
 *
 * Reads through an ordered consumer that is recreated from the next expected
 * sequence whenever the connection drops or the consumer stalls: a reader
 * survives server restarts with no gap and no duplicate. A commit below the
 * expected sequence (a redelivery) is skipped; one above it is REM_ERR_SEQ_GAP.
 *
 * Returns true when `until` was reached, false when `signal` aborted first.
 */
export async function* readCommits(p: ReadCommitsParams): AsyncGenerator<RawCommit[], boolean> {
  let next = p.from;
  let attempt = 0;
  let failingSince: number | null = null;
  while (!p.signal.aborted) {
    if (p.nc.isClosed()) {
      throw new RemError("REM_ERR_LOG_CLOSED", `tenant ${p.tenant}: the NATS connection is closed`, { tenant: p.tenant, seq: next });
    }
    if (!p.conn.connected) {
      // Requests sent while disconnected are lost (see ConnectionWatch): wait for the reconnect.
      failingSince ??= Date.now();
      const connected = await p.conn.waitConnected(Math.max(0, p.retryForMs - (Date.now() - failingSince)), p.signal);
      if (p.signal.aborted) return false;
      if (!connected) {
        if (p.nc.isClosed()) continue;
        throw new RemError("REM_ERR_LOG_UNAVAILABLE", `tenant ${p.tenant}: not connected to NATS (reading stream ${p.stream} at commit ${next})`, { tenant: p.tenant, seq: next });
      }
    }
    const start = next;
    let failure: RemError | null = null;
    let batch: RawCommit[] = [];
    let batchBytes = 0;
    let session: Session | null = null;
    try {
      session = await openSession(p, next);
      for await (const m of session.messages) {
        if (p.signal.aborted) return false;
        const seq = m.seq;
        if (seq < next) continue; // redelivered after a consumer reset
        if (seq > next) {
          if (batch.length > 0) {
            const out = batch; // deliver what is sound before failing
            batch = [];
            yield out;
          }
          throw new RemError("REM_ERR_SEQ_GAP", `tenant ${p.tenant}: stream ${p.stream} delivered commit ${seq} where ${next} was expected`, {
            tenant: p.tenant,
            expectedSeq: next,
            actualSeq: seq,
          });
        }
        const bytes = ownBytes(m.data);
        batch.push({ seq: seq as Seq, bytes });
        batchBytes += bytes.length;
        next = seq + 1;
        const done = p.until !== null && seq >= p.until;
        if (done || batch.length >= READ_BATCH || batchBytes >= READ_BATCH_BYTES || m.info.pending === 0) {
          const out = batch;
          batch = [];
          batchBytes = 0;
          yield out;
          if (done) return true;
        }
      }
    } catch (err) {
      failure = toRemError(err, { tenant: p.tenant, op: `reading stream ${p.stream} at commit ${next}` });
      if (!isTransient(failure)) throw failure;
    } finally {
      session?.close();
    }
    if (p.signal.aborted) return false;
    if (batch.length > 0) yield batch; // what arrived before the consumer went away
    // Here the consumer went away: an error, a disconnect, a stall. Recreate it at `next`.
    if (next > start) {
      attempt = 0;
      failingSince = null;
      continue;
    }
    failingSince ??= Date.now();
    if (Date.now() - failingSince >= p.retryForMs) {
      throw failure ?? new RemError("REM_ERR_LOG_UNAVAILABLE", `tenant ${p.tenant}: reading stream ${p.stream} made no progress at commit ${next} for ${p.retryForMs} ms`, { tenant: p.tenant, seq: next });
    }
    attempt++;
    await pause(Math.min(MAX_BACKOFF_MS, 50 * 2 ** attempt), p.signal);
  }
  return false;
}

/**
 * The message's bytes, safe to keep. nats.js 3.4 hands out views that it never
 * overwrites: of the socket read chunk (a fresh Node Buffer per read) or, for a
 * message spanning reads (most ~60 KB commits), of a buffer it assembled for
 * that message alone (parser.js, MSG_PAYLOAD): copying those is a ~60 KB
 * allocation per commit for nothing. A small message would pin its whole 64 KiB
 * read chunk: copy it when the backing buffer is much larger than the message.
 * test/log/jetstream-log.test.ts checks kept commits after further traffic.
 */
function ownBytes(data: Uint8Array): Uint8Array {
  // new Uint8Array(view) copies; `slice()` would not when nats.js hands out a Node Buffer.
  return data.buffer.byteLength > 2 * data.byteLength + 4096 ? new Uint8Array(data) : data;
}

interface Session {
  readonly messages: ConsumerMessages;
  close(): void;
}

/** An ordered consumer from `next`, stopped on abort, on a disconnect and when it stalls. */
async function openSession(p: ReadCommitsParams, next: number): Promise<Session> {
  const consumer = await p.js.consumers.get(p.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next });
  let messages: ConsumerMessages;
  try {
    // abort_on_missing_resource: a vanished consumer ends the iterator (we recreate it) instead of nats.js retrying
    messages = await consumer.consume({ max_messages: PULL_MESSAGES, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
  } catch (err) {
    consumer.delete().catch(() => undefined);
    throw err;
  }
  const stop = (): void => {
    messages.stop();
  };
  watch(messages.status(), (s) => {
    if (STALLED.has(s.type)) stop();
  });
  // Anything in flight is lost with the connection: resume from our cursor after reconnecting.
  const offDisconnect = p.conn.onDisconnect(stop);
  p.signal.addEventListener("abort", stop, { once: true });
  return {
    messages,
    close() {
      p.signal.removeEventListener("abort", stop);
      stop();
      offDisconnect();
      // Ordered consumers are ephemeral (the server drops them after 5 idle minutes); deleting spares it the wait.
      consumer.delete().catch(() => undefined);
    },
  };
}

function watch<T>(it: AsyncIterable<T>, fn: (value: T) => void): void {
  void (async () => {
    try {
      for await (const v of it) fn(v);
    } catch {
      // the iterator ended with its consumer; nothing to report here
    }
  })();
}

