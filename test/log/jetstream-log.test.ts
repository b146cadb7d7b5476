import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isRemError, RemError } from "../../src/errors.js";
import { connectNats } from "../../events/log/jetstream/connect.js";
import { JetStreamLog, type JetStreamLogOptions } from "../../events/log/jetstream/jetstream-log.js";
import { READ_BATCH_BYTES } from "../../events/log/jetstream/reader.js";
import { PUBLISH_HEADER_RESERVE, streamName } from "../../events/log/jetstream/stream.js";
import { commitId, seq, tenantName, type CommitId, type Seq, type TenantName } from "../../events/model/ids.js";
import type { AppendAck, LogBackend, RawCommit } from "../../events/log/types.js";
import { startNatsServer, type NatsServerHandle } from "../support/nats-server.js";

let server: NatsServerHandle;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});

afterEach(async () => {
  // Logs first, then connections, then any extra servers.
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

afterAll(async () => {
  await server?.cleanup();
});

// ---- helpers -----------------------------------------------------------------

let tenantCounter = 0;
function freshTenant(): TenantName {
  return tenantName(`t${++tenantCounter}-${randomBytes(3).toString("hex")}`);
}

function newCommitId(): CommitId {
  return commitId(randomBytes(16).toString("hex"));
}

/** Opaque bytes, with the sequence in the first 8 when there is room, so a misplaced commit is visible. */
function commitBytes(s: number, size = 64): Uint8Array {
  const b = new Uint8Array(size);
  b.set(randomBytes(size));
  if (size >= 8) new DataView(b.buffer).setBigUint64(0, BigInt(s));
  return b;
}

async function connect(url = server.url): Promise<NatsConnection> {
  const nc = await connectNats(url);
  cleanups.push(() => nc.close());
  return nc;
}

async function openLog(nc: NatsConnection, tenant: TenantName, extra: Partial<JetStreamLogOptions> = {}): Promise<JetStreamLog> {
  const log = await JetStreamLog.open({ nc, tenant, ...extra });
  cleanups.push(() => log.close());
  return log;
}

interface Written {
  readonly seq: Seq;
  readonly id: CommitId;
  readonly bytes: Uint8Array;
}

async function appendMany(log: LogBackend, from: number, count: number, size = 64): Promise<Written[]> {
  const out: Written[] = [];
  for (let s = from; s < from + count; s++) {
    const w = { seq: seq(s), id: newCommitId(), bytes: commitBytes(s, size) };
    const ack = await log.append({ seq: w.seq, commitId: w.id, bytes: w.bytes });
    expect(ack).toEqual({ seq: s, duplicate: false });
    out.push(w);
  }
  return out;
}

async function collect(it: AsyncIterable<RawCommit[]>): Promise<{ commits: RawCommit[]; batches: number[] }> {
  const commits: RawCommit[] = [];
  const batches: number[] = [];
  for await (const batch of it) {
    batches.push(batch.length);
    commits.push(...batch);
  }
  return { commits, batches };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function rejection(p: Promise<unknown>): Promise<RemError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RemError) return err;
    throw new Error(`expected a RemError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a rejection");
}

/** Appends, retrying on REM_ERR_LOG_UNAVAILABLE with the same commit id (what TenantLog's callers do). */
async function appendRetrying(log: LogBackend, w: Written, onUnavailable: () => void, deadlineMs = 20_000): Promise<AppendAck> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await log.append({ seq: w.seq, commitId: w.id, bytes: w.bytes });
    } catch (err) {
      if (!isRemError(err, "REM_ERR_LOG_UNAVAILABLE") || Date.now() > deadline) throw err;
      onUnavailable();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- tests -------------------------------------------------------------------

describe("JetStreamLog", () => {
  it("round-trips raw byte commits of any size and reports last()", async () => {
    const nc = await connect();
    const log = await openLog(nc, freshTenant());
    expect(log.kind).toBe("jetstream");
    expect(await log.last()).toBeNull();
    expect((await collect(log.read(seq(1)))).commits).toEqual([]);

    const sizes = [8, 1, 0, 200, 4096, 50_000, 8, 70_000, 16];
    const written: Written[] = [];
    for (const [i, size] of sizes.entries()) written.push(...(await appendMany(log, i + 1, 1, size)));

    const { commits } = await collect(log.read(seq(1)));
    expect(commits.map((c) => c.seq)).toEqual(range(1, sizes.length));
    for (const [i, c] of commits.entries()) expect(Buffer.from(c.bytes).equals(Buffer.from(written[i]!.bytes))).toBe(true);

    const last = await log.last();
    expect(last?.seq).toBe(sizes.length);
    expect(Buffer.from(last!.bytes).equals(Buffer.from(written.at(-1)!.bytes))).toBe(true);
  });

  it("creates an append-only stream with the configured limits", async () => {
    const nc = await connect();
    const tenant = freshTenant();
    const log = await openLog(nc, tenant, { maxCommitBytes: 1000, duplicateWindowMs: 30_000 });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(streamName(tenant));
    expect(info.config).toMatchObject({
      subjects: [`rem.${tenant}.>`],
      storage: "file",
      retention: "limits",
      max_msg_size: 1000 + PUBLISH_HEADER_RESERVE,
      deny_delete: true,
      deny_purge: true,
      num_replicas: 1,
    });
    expect(info.config.duplicate_window).toBe(30_000 * 1e6);
    await appendMany(log, 1, 2);
    await expect(jsm.streams.purge(streamName(tenant))).rejects.toThrow();
    await expect(jsm.streams.deleteMessage(streamName(tenant), 1)).rejects.toThrow();
    expect((await log.last())?.seq).toBe(2);
  });

  it("rejects an append at the wrong sequence with REM_ERR_LOG_CONFLICT and stores nothing", async () => {
    const nc = await connect();
    const log = await openLog(nc, freshTenant());
    await appendMany(log, 1, 2);

    const again = await rejection(log.append({ seq: seq(2), commitId: newCommitId(), bytes: commitBytes(2) }));
    expect(again.code).toBe("REM_ERR_LOG_CONFLICT");
    expect(again.details).toMatchObject({ tenant: log.tenant, expectedSeq: 1, actualSeq: 2 });

    const ahead = await rejection(log.append({ seq: seq(5), commitId: newCommitId(), bytes: commitBytes(5) }));
    expect(ahead.code).toBe("REM_ERR_LOG_CONFLICT");
    expect(ahead.details).toMatchObject({ expectedSeq: 4, actualSeq: 2 });

    // seq 1 expects an empty stream: the header with value 0 is sent and enforced.
    const first = await rejection(log.append({ seq: seq(1), commitId: newCommitId(), bytes: commitBytes(1) }));
    expect(first.code).toBe("REM_ERR_LOG_CONFLICT");
    expect(first.details).toMatchObject({ expectedSeq: 0, actualSeq: 2 });

    expect((await log.last())?.seq).toBe(2);
    expect((await collect(log.read(seq(1)))).commits.map((c) => c.seq)).toEqual([1, 2]);
  });

  it("lets two writers race for seq 1: exactly one lands", async () => {
    const [nc1, nc2] = await Promise.all([connect(), connect()]);
    for (let round = 0; round < 10; round++) {
      const tenant = freshTenant();
      // Both open at once too: concurrent stream creation must not fail.
      const [a, b] = await Promise.all([openLog(nc1, tenant), openLog(nc2, tenant)]);
      const wa = { seq: seq(1), commitId: newCommitId(), bytes: commitBytes(1) };
      const wb = { seq: seq(1), commitId: newCommitId(), bytes: commitBytes(1) };
      const results = await Promise.allSettled([a.append(wa), b.append(wb)]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(isRemError(lost[0]!.reason, "REM_ERR_LOG_CONFLICT")).toBe(true);
      const winner = results[0]!.status === "fulfilled" ? wa : wb;
      const { commits } = await collect(a.read(seq(1)));
      expect(commits).toHaveLength(1);
      expect(Buffer.from(commits[0]!.bytes).equals(Buffer.from(winner.bytes))).toBe(true);
    }
  });

  it("protects pipelined commits with prevCommitId", async () => {
    const nc = await connect();
    const ncForeign = await connect();
    const tenant = freshTenant();
    const log = await openLog(nc, tenant);
    const foreign = await openLog(ncForeign, tenant);
    const [c1] = await appendMany(log, 1, 1);

    // Pipelined in flight together: k on c1, k+1 on k. Both land, in order.
    const k = { seq: seq(2), commitId: newCommitId(), bytes: commitBytes(2), prevCommitId: c1!.id };
    const k1 = { seq: seq(3), commitId: newCommitId(), bytes: commitBytes(3), prevCommitId: k.commitId };
    expect(await Promise.all([log.append(k), log.append(k1)])).toEqual([
      { seq: 2, duplicate: false },
      { seq: 3, duplicate: false },
    ]);

    // A foreign commit takes seq 4 before our in-flight k2 (seq 4): k2 conflicts, and so must
    // k3 (seq 5, built on k2) even though the log now ends at 4 as k3 expects.
    await foreign.append({ seq: seq(4), commitId: newCommitId(), bytes: commitBytes(4) });
    const k2 = { seq: seq(4), commitId: newCommitId(), bytes: commitBytes(4), prevCommitId: k1.commitId };
    const k3 = { seq: seq(5), commitId: newCommitId(), bytes: commitBytes(5), prevCommitId: k2.commitId };
    const [e2, e3] = await Promise.all([rejection(log.append(k2)), rejection(log.append(k3))]);
    expect(e2.code).toBe("REM_ERR_LOG_CONFLICT");
    expect(e3.code).toBe("REM_ERR_LOG_CONFLICT");
    expect(e3.details).toMatchObject({ expectedSeq: 4, prevCommitId: k2.commitId });
    expect((await log.last())?.seq).toBe(4);

    // Without prevCommitId the same append would have landed after the foreign commit.
    expect(await log.append({ seq: seq(5), commitId: k3.commitId, bytes: k3.bytes })).toEqual({ seq: 5, duplicate: false });
  });

  it("makes a retry with the same commit id idempotent", async () => {
    const nc = await connect();
    const log = await openLog(nc, freshTenant());
    const id = newCommitId();
    const bytes = commitBytes(1);
    expect(await log.append({ seq: seq(1), commitId: id, bytes })).toEqual({ seq: 1, duplicate: false });
    expect(await log.append({ seq: seq(1), commitId: id, bytes })).toEqual({ seq: 1, duplicate: true });
    await appendMany(log, 2, 2);
    // A late retry, even at a sequence that has moved on, reports where the original is.
    expect(await log.append({ seq: seq(1), commitId: id, bytes })).toEqual({ seq: 1, duplicate: true });
    expect(await log.append({ seq: seq(4), commitId: id, bytes: commitBytes(4) })).toEqual({ seq: 1, duplicate: true });
    const { commits } = await collect(log.read(seq(1)));
    expect(commits.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(Buffer.from(commits[0]!.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it("yields commits that stay intact while later messages arrive (the reader keeps nats.js views of large messages)", async () => {
    const nc = await connect();
    const log = await openLog(nc, freshTenant());
    // Sizes around the socket read size (64 KiB), so messages span reads, share reads, or fill them.
    const sizes = Array.from({ length: 120 }, (_, i) => [60_000, 100, 70_000, 3_000, 65_536, 1][i % 6]!);
    const ids = sizes.map(() => newCommitId());
    const written = sizes.map((size, i) => commitBytes(i + 1, size));
    await Promise.all(written.map((bytes, i) => log.append({ seq: seq(i + 1), commitId: ids[i]!, bytes, prevCommitId: i === 0 ? undefined : ids[i - 1] })));
    const kept: RawCommit[] = [];
    for await (const batch of log.read(seq(1))) {
      // Batches stop at about READ_BATCH_BYTES, so the caller hashes and decodes them while cached.
      expect(batch.slice(0, -1).reduce((n, c) => n + c.bytes.length, 0)).toBeLessThan(READ_BATCH_BYTES);
      kept.push(...batch);
    }
    // More traffic on the same connection after the first read: kept bytes must not change.
    await collect(log.read(seq(1)));
    await appendMany(log, sizes.length + 1, 3, 50_000);
    expect(kept.map((c) => c.seq)).toEqual(range(1, sizes.length));
    for (const [i, c] of kept.entries()) expect(Buffer.from(c.bytes).equals(Buffer.from(written[i]!))).toBe(true);
    // A small commit does not pin a whole read chunk.
    for (const c of kept) expect(c.bytes.buffer.byteLength).toBeLessThanOrEqual(2 * c.bytes.byteLength + 4096);
  });

  it("reads from the middle, up to `until`, and in batches of at most 512", async () => {
    const nc = await connect();
    const log = await openLog(nc, freshTenant());
    // Pipelined appends to build a longer log quickly.
    const n = 1300;
    const ids = Array.from({ length: n }, newCommitId);
    const acks = await Promise.all(
      ids.map((id, i) => log.append({ seq: seq(i + 1), commitId: id, bytes: commitBytes(i + 1, 32), prevCommitId: i === 0 ? undefined : ids[i - 1] })),
    );
    expect(acks.every((a, i) => a.seq === i + 1 && !a.duplicate)).toBe(true);

    const all = await collect(log.read(seq(1)));
    expect(all.commits.map((c) => c.seq)).toEqual(range(1, n));
    expect(Math.max(...all.batches)).toBeLessThanOrEqual(512);
    // Full batches while more is pending (not one commit per batch), the rest at the head.
    expect(all.batches.length).toBeGreaterThanOrEqual(3);
    expect(all.batches.length).toBeLessThanOrEqual(5);
    expect(all.commits.every((c) => Number(new DataView(c.bytes.buffer, c.bytes.byteOffset, 8).getBigUint64(0)) === c.seq)).toBe(true);

    expect((await collect(log.read(seq(1001)))).commits.map((c) => c.seq)).toEqual(range(1001, n));
    expect((await collect(log.read(seq(5), { until: seq(9) }))).commits.map((c) => c.seq)).toEqual([5, 6, 7, 8, 9]);
    expect((await collect(log.read(seq(n), { until: seq(n + 50) }))).commits.map((c) => c.seq)).toEqual([n]);
    expect((await collect(log.read(seq(n + 1)))).commits).toEqual([]);

    // The head is fixed when the read starts: later appends are not included.
    const reading = log.read(seq(n - 1))[Symbol.asyncIterator]();
    const firstBatch = await reading.next();
    await appendMany(log, n + 1, 1);
    const rest: number[] = [];
    for (let r = await reading.next(); !r.done; r = await reading.next()) rest.push(...r.value.map((c) => c.seq));
    expect([...(firstBatch.value as RawCommit[]).map((c) => c.seq), ...rest]).toEqual([n - 1, n]);

    // Aborting ends a read quietly.
    const ac = new AbortController();
    let seen = 0;
    for await (const batch of log.read(seq(1), { signal: ac.signal })) {
      seen += batch.length;
      ac.abort();
    }
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(n);

    await expect(collect(log.read(seq(0)))).rejects.toMatchObject({ code: "REM_ERR_INVALID_ARGUMENT" });
  });

  it("follows: yields existing commits, then new ones as they are appended; ends quietly on abort", async () => {
    const nc = await connect();
    const ncWriter = await connect();
    const tenant = freshTenant();
    const log = await openLog(nc, tenant);
    const writer = await openLog(ncWriter, tenant);
    await appendMany(writer, 1, 3);
    const ac = new AbortController();
    const seen: RawCommit[] = [];
    const following = (async () => {
      for await (const batch of log.follow(seq(2), { signal: ac.signal })) seen.push(...batch);
    })();
    await waitFor(() => seen.length === 2, 5_000, "existing commits");
    const later = await appendMany(writer, 4, 5);
    await waitFor(() => seen.length === 7, 5_000, "new commits");
    ac.abort();
    await following; // no error
    expect(seen.map((c) => c.seq)).toEqual(range(2, 8));
    expect(Buffer.from(seen.at(-1)!.bytes).equals(Buffer.from(later.at(-1)!.bytes))).toBe(true);
  });

  it("close() ends follows quietly, refuses further use and leaves a shared connection open", async () => {
    const nc = await connect();
    const log = await JetStreamLog.open({ nc, tenant: freshTenant() });
    await appendMany(log, 1, 1);
    const ac = new AbortController();
    let count = 0;
    const following = (async () => {
      for await (const batch of log.follow(seq(1), { signal: ac.signal })) count += batch.length;
    })();
    await waitFor(() => count === 1, 5_000, "the first commit");
    await log.close();
    await following;
    expect(ac.signal.aborted).toBe(false);
    expect((await rejection(log.append({ seq: seq(2), commitId: newCommitId(), bytes: commitBytes(2) }))).code).toBe("REM_ERR_LOG_CLOSED");
    expect((await rejection(log.last())).code).toBe("REM_ERR_LOG_CLOSED");
    expect(nc.isClosed()).toBe(false);

    const own = await connectNats(server.url);
    cleanups.push(() => own.close());
    const owning = await JetStreamLog.open({ nc: own, tenant: freshTenant(), ownsConnection: true });
    await owning.close();
    expect(own.isClosed()).toBe(true);
  });

  it("enforces maxCommitBytes, leaving room for the headers", async () => {
    const nc = await connect();
    const tenant = freshTenant();
    const log = await openLog(nc, tenant);
    // Default: 1 MiB capped by the server's max_payload (1 MiB) minus the header reserve.
    expect(log.maxCommitBytes).toBe(Math.min(1024 * 1024, nc.info!.max_payload - PUBLISH_HEADER_RESERVE));
    const big = commitBytes(1, log.maxCommitBytes);
    const id = newCommitId();
    expect(await log.append({ seq: seq(1), commitId: id, bytes: big })).toEqual({ seq: 1, duplicate: false });
    // The largest commit still fits with every header (pipelined predecessor included).
    expect(await log.append({ seq: seq(2), commitId: newCommitId(), bytes: commitBytes(2, log.maxCommitBytes), prevCommitId: id })).toEqual({ seq: 2, duplicate: false });
    const tooBig = await rejection(log.append({ seq: seq(3), commitId: newCommitId(), bytes: commitBytes(3, log.maxCommitBytes + 1) }));
    expect(tooBig.code).toBe("REM_ERR_COMMIT_TOO_LARGE");

    // A stream created with a smaller limit caps later openers, and the server enforces it.
    const small = freshTenant();
    await openLog(nc, small, { maxCommitBytes: 1000 });
    const later = await openLog(nc, small, { maxCommitBytes: 5000 });
    expect(later.maxCommitBytes).toBe(1000);
    expect((await rejection(later.append({ seq: seq(1), commitId: newCommitId(), bytes: commitBytes(1, 1001) }))).code).toBe("REM_ERR_COMMIT_TOO_LARGE");
    const js = (await jetstreamManager(nc)).jetstream();
    const serverSide = await js.publish(`rem.${small}.commit`, new Uint8Array(1000 + PUBLISH_HEADER_RESERVE + 1)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(serverSide).toBeInstanceOf(Error);
    expect((await later.last())).toBeNull();
  });

  it("refuses a missing stream with create: false and a foreign stream with the wrong subjects", async () => {
    const nc = await connect();
    const missing = await rejection(JetStreamLog.open({ nc, tenant: freshTenant(), create: false }));
    expect(missing.code).toBe("REM_ERR_NOT_FOUND");

    const tenant = freshTenant();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: streamName(tenant), subjects: [`other.${tenant}.>`] });
    const wrong = await rejection(JetStreamLog.open({ nc, tenant }));
    expect(wrong.code).toBe("REM_ERR_LOG_UNAVAILABLE");
    expect(wrong.message).toMatch(/subjects/);

    const expiring = freshTenant();
    await jsm.streams.add({ name: streamName(expiring), subjects: [`rem.${expiring}.>`], max_age: 3600e9 });
    expect((await rejection(JetStreamLog.open({ nc, tenant: expiring }))).message).toMatch(/max_age/);
  });

  it("reports a missing commit as REM_ERR_SEQ_GAP after yielding the commits before it", async () => {
    const nc = await connect();
    const tenant = freshTenant();
    // A stream REM did not create (deletes allowed), with a message removed from the middle.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: streamName(tenant), subjects: [`rem.${tenant}.>`] });
    const js = jsm.jetstream();
    for (let i = 1; i <= 3; i++) await js.publish(`rem.${tenant}.commit`, commitBytes(i));
    await jsm.streams.deleteMessage(streamName(tenant), 2);
    const log = await openLog(nc, tenant);
    expect((await log.last())?.seq).toBe(3);
    const seen: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const batch of log.read(seq(1))) seen.push(...batch.map((c) => c.seq));
      })(),
    );
    expect(err.code).toBe("REM_ERR_SEQ_GAP");
    expect(err.details).toMatchObject({ tenant, expectedSeq: 2, actualSeq: 3 });
    expect(seen).toEqual([1]);
  });

  it("reports an unreachable server as REM_ERR_LOG_UNAVAILABLE naming the URL", async () => {
    const s = await startNatsServer();
    const url = s.url;
    await s.cleanup();
    const err = await rejection(connectNats(url.replace("nats://", "nats://user:secret@")));
    expect(err.code).toBe("REM_ERR_LOG_UNAVAILABLE");
    expect(err.message).toContain(url);
    expect(err.message).not.toContain("secret");
  });

  describe("across server restarts", () => {
    let s: NatsServerHandle;
    beforeAll(async () => {
      s = await startNatsServer();
    });
    afterAll(async () => {
      await s?.cleanup();
    });

    it("appends after a restart (reconnect); dedup and the last msg id survive it", async () => {
      const nc = await connect(s.url);
      const log = await openLog(nc, freshTenant(), { timeoutMs: 1000 });
      const [, c2] = await appendMany(log, 1, 2);
      await s.stop();
      // While the server is down an append is unavailable, not lost or misreported.
      const down = await rejection(log.append({ seq: seq(3), commitId: newCommitId(), bytes: commitBytes(3) }));
      expect(down.code).toBe("REM_ERR_LOG_UNAVAILABLE");
      await s.restart();

      let unavailable = 0;
      const c3 = { seq: seq(3), id: newCommitId(), bytes: commitBytes(3) };
      // The retry names c2 as its predecessor: the server remembers the last msg id after a restart.
      const deadline = Date.now() + 15_000;
      let ack: AppendAck | null = null;
      while (ack === null) {
        try {
          ack = await log.append({ seq: c3.seq, commitId: c3.id, bytes: c3.bytes, prevCommitId: c2!.id });
        } catch (err) {
          if (!isRemError(err, "REM_ERR_LOG_UNAVAILABLE") || Date.now() > deadline) throw err;
          unavailable++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(ack.seq).toBe(3);
      expect(unavailable).toBeLessThan(100);
      expect(await log.append({ seq: c2!.seq, commitId: c2!.id, bytes: c2!.bytes })).toEqual({ seq: 2, duplicate: true });
      const wrongPrev = await rejection(log.append({ seq: seq(4), commitId: newCommitId(), bytes: commitBytes(4), prevCommitId: c2!.id }));
      expect(wrongPrev.code).toBe("REM_ERR_LOG_CONFLICT");
      expect((await log.last())?.seq).toBe(3);
      expect((await collect(log.read(seq(1)))).commits.map((c) => c.seq)).toEqual([1, 2, 3]);
    });

    it("a read interrupted by a server restart resumes where it was", async () => {
      const nc = await connect(s.url);
      const log = await openLog(nc, freshTenant());
      const n = 2000;
      const ids = Array.from({ length: n }, newCommitId);
      await Promise.all(ids.map((id, i) => log.append({ seq: seq(i + 1), commitId: id, bytes: commitBytes(i + 1, 256), prevCommitId: i === 0 ? undefined : ids[i - 1] })));
      const seen: number[] = [];
      let restarted = false;
      for await (const batch of log.read(seq(1))) {
        seen.push(...batch.map((c) => c.seq));
        if (!restarted) {
          restarted = true;
          await s.kill();
          await s.restart();
        }
      }
      expect(restarted).toBe(true);
      expect(seen).toEqual(range(1, n));
    });

    it("a follower survives SIGKILL and restart mid-stream: exactly 1..N, no gap, no duplicate", async () => {
      const tenant = freshTenant();
      const writer = await openLog(await connect(s.url), tenant, { timeoutMs: 1000 });
      const follower = await openLog(await connect(s.url), tenant);
      const N = 300;
      const written = new Map<number, Uint8Array>();
      let unavailable = 0;
      let duplicates = 0;

      const ac = new AbortController();
      const seen: RawCommit[] = [];
      const following = (async () => {
        for await (const batch of follower.follow(seq(1), { signal: ac.signal })) {
          seen.push(...batch);
          if (seen.length >= N) ac.abort();
        }
      })();

      const writing = (async () => {
        for (let i = 1; i <= N; i++) {
          const w = { seq: seq(i), id: newCommitId(), bytes: commitBytes(i, 512) };
          written.set(i, w.bytes);
          const ack = await appendRetrying(writer, w, () => unavailable++);
          expect(ack.seq).toBe(i);
          if (ack.duplicate) duplicates++;
          if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
        }
      })();

      await waitFor(() => seen.length >= 60, 10_000, "the follower to get going");
      await s.kill();
      // Down for longer than the writer's ack timeout, so it must retry.
      await new Promise((r) => setTimeout(r, 1300));
      await s.restart();
      await writing;
      const writtenAt = Date.now();
      const timer = setTimeout(() => ac.abort(), 20_000);
      await following;
      clearTimeout(timer);
      // The follower resumes on reconnect, not after heartbeat timeouts.
      expect(Date.now() - writtenAt).toBeLessThan(3_000);

      expect(unavailable).toBeGreaterThan(0);
      expect(duplicates).toBeLessThanOrEqual(1);
      expect(seen.map((c) => c.seq)).toEqual(range(1, N));
      for (const c of seen) expect(Buffer.from(c.bytes).equals(Buffer.from(written.get(c.seq)!))).toBe(true);
      expect((await writer.last())?.seq).toBe(N);
    });
  });
});
