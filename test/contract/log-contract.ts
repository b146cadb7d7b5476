import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { TrustedKeys } from "../../events/chain-verifier.js";
import type { DataKey } from "../../events/commit-builder.js";
import type { Event } from "../../events/model/events.js";
import { tenantName, type Seq, type TenantName } from "../../events/model/ids.js";
import { validateEvent } from "../../events/model/validate.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import type { LogBackend, RawCommit } from "../../events/log/types.js";
import type { Signer } from "../../events/signing.js";
import { isRemError, RemError } from "../../src/errors.js";
import { events as eventsArb } from "../support/arbitraries.js";
import { entityEvent, resolverFor, testDataKey, testSigner } from "../support/fixtures.js";

/**
 * What a backend test file provides: a way to open (and re-open) a backend for
 * a tenant. Every backend runs the same suite (Emmett-style contract tests).
 */
export interface BackendHarness {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /**
   * Opens the backend for `tenant`; calling it again for the same tenant re-opens
   * the same log. "read" opens a reader beside a running writer (the embedded log
   * has a single writer per directory).
   */
  open(tenant: TenantName, mode: "write" | "read"): Promise<LogBackend>;
}

let counter = 0;
function freshTenant(): TenantName {
  return tenantName(`t${process.pid}-${Date.now() % 100000}-${counter++}`);
}

async function collect(source: AsyncIterable<RawCommit[] | { seq: Seq }[]>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const batch of source) for (const c of batch) seqs.push(c.seq);
  return seqs;
}

function codeOf(err: unknown): string {
  return isRemError(err) ? err.code : `not a RemError: ${String(err)}`;
}

export function describeLogContract(h: BackendHarness): void {
  describe(`event log contract: ${h.name}`, () => {
    const { signer, trusted } = testSigner();
    const opened: TenantLog[] = [];

    async function openLog(tenant: TenantName, opts: { signer?: Signer; trusted?: TrustedKeys; dataKey?: DataKey } = {}): Promise<TenantLog> {
      const log = await TenantLog.open({
        backend: await h.open(tenant, "write"),
        signer: opts.signer ?? signer,
        trusted: opts.trusted ?? trusted,
        encryptWith: opts.dataKey,
        dataKeys: opts.dataKey ? resolverFor(tenant, opts.dataKey) : undefined,
      });
      opened.push(log);
      return log;
    }

    async function readEvents(log: TenantLog, from = 1): Promise<Event[]> {
      const out: Event[] = [];
      for await (const batch of log.read(from as Seq)) for (const c of batch) out.push(...log.events(c));
      return out;
    }

    beforeAll(() => h.setup());
    afterAll(async () => {
      for (const l of opened) await l.close().catch(() => undefined);
      await h.teardown();
    });

    it("starts empty", async () => {
      const log = await openLog(freshTenant());
      expect((await log.head()).seq).toBe(0);
      expect(await collect(log.read(1 as Seq))).toEqual([]);
      expect(await log.backend.last()).toBeNull();
    });

    it("appends commits with consecutive sequences and reads back the same events", async () => {
      const log = await openLog(freshTenant());
      const a = [entityEvent(1), entityEvent(2)];
      const b = [entityEvent(3)];
      const r1 = await log.append(a);
      const r2 = await log.append(b);
      expect([r1.seq, r2.seq]).toEqual([1, 2]);
      expect(r1.duplicate || r2.duplicate).toBe(false);
      expect(await readEvents(log)).toEqual([...a, ...b].map((e) => validateEvent(e)));
      const head = await log.head();
      expect(head.seq).toBe(2);
      expect(head.hash).toBe(r2.hash);
    });

    it("round-trips random events (property)", async () => {
      const log = await openLog(freshTenant());
      const appended: Event[] = [];
      await fc.assert(
        fc.asyncProperty(eventsArb, async (evs) => {
          await log.append(evs);
          appended.push(...evs.map((e) => validateEvent(e)));
        }),
        { numRuns: 25 },
      );
      expect(await readEvents(log)).toEqual(appended);
    });

    it("pipelines concurrent appends into one unbroken chain, in call order", async () => {
      const log = await openLog(freshTenant());
      const batches = Array.from({ length: 60 }, (_, i) => [entityEvent(i)]);
      const results = await Promise.all(batches.map((b) => log.append(b)));
      expect(results.map((r) => r.seq)).toEqual(batches.map((_, i) => i + 1));
      const seen = await readEvents(log);
      expect(seen.map((e) => e.id)).toEqual(batches.map((b) => b[0]!.id));
      // A full read verified every link and signature (the TenantLog read throws otherwise).
      expect(await collect(log.read(1 as Seq, { signatures: "all" }))).toHaveLength(60);
    });

    it("reads from the middle and up to a bound", async () => {
      const log = await openLog(freshTenant());
      for (let i = 0; i < 10; i++) await log.append([entityEvent(i)]);
      expect(await collect(log.read(4 as Seq))).toEqual([4, 5, 6, 7, 8, 9, 10]);
      expect(await collect(log.read(2 as Seq, { until: 5 as Seq }))).toEqual([2, 3, 4, 5]);
      expect(await collect(log.read(11 as Seq))).toEqual([]);
    });

    it("enforces optimistic concurrency: a stale expected sequence is a typed conflict and stores nothing", async () => {
      const log = await openLog(freshTenant());
      await log.append([entityEvent(1)], { expectedSeq: 0 as Seq });
      await log.append([entityEvent(2)], { expectedSeq: 1 as Seq });
      const err = await log.append([entityEvent(3)], { expectedSeq: 1 as Seq }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe("REM_ERR_LOG_CONFLICT");
      expect((err as RemError).details).toMatchObject({ expectedSeq: 1, actualSeq: 2 });
      expect((await log.head()).seq).toBe(2);
    });

    it("makes a retry of the same events idempotent", async () => {
      const log = await openLog(freshTenant());
      const evs = [entityEvent(1), entityEvent(2)];
      const first = await log.append(evs);
      await log.append([entityEvent(3)]);
      const again = await log.append(evs);
      expect(again).toMatchObject({ seq: first.seq, duplicate: true, commitId: first.commitId });
      expect((await log.head()).seq).toBe(2);
      // Concurrent duplicates of one commit store it once.
      const evs2 = [entityEvent(4)];
      const [x, y] = await Promise.all([log.append(evs2), log.append(evs2)]);
      expect(new Set([x.seq, y.seq]).size).toBe(1);
      expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
      expect((await log.head()).seq).toBe(3);
    });

    it("recognises a retry made with the same expected sequence (the first answer was lost) as a duplicate, not a conflict", async () => {
      const log = await openLog(freshTenant());
      const evs = [entityEvent(1)];
      const first = await log.append(evs, { expectedSeq: 0 as Seq });
      await log.append([entityEvent(2)]); // another writer moved on meanwhile
      const retry = await log.append(evs, { expectedSeq: 0 as Seq });
      expect(retry).toMatchObject({ seq: first.seq, duplicate: true, commitId: first.commitId });
      // Other events with that stale expectation still conflict.
      const other = await log.append([entityEvent(3)], { expectedSeq: 0 as Seq }).catch((e: unknown) => e);
      expect(codeOf(other)).toBe("REM_ERR_LOG_CONFLICT");
      expect((await log.head()).seq).toBe(2);
    });

    it("refuses invalid and oversized commits whole, storing nothing", async () => {
      const log = await openLog(freshTenant());
      await log.append([entityEvent(0)]);
      const bad = { ...entityEvent(1), entity_id: "not-a-uuid" } as Event;
      const e1 = await log.append([entityEvent(2), bad]).catch((e: unknown) => e);
      expect(codeOf(e1)).toBe("REM_ERR_EVENT_INVALID");
      expect((e1 as RemError).details.path).toBe("events[1].entity_id");
      const huge = { ...entityEvent(3), data: { blob: "x".repeat(log.backend.maxCommitBytes) } } as Event;
      expect(codeOf(await log.append([huge]).catch((e: unknown) => e))).toBe("REM_ERR_COMMIT_TOO_LARGE");
      expect(codeOf(await log.append([]).catch((e: unknown) => e))).toBe("REM_ERR_COMMIT_EMPTY");
      expect((await log.head()).seq).toBe(1);
    });

    it("follows: delivers commits appended after it started, in order, once", async () => {
      const log = await openLog(freshTenant());
      await log.append([entityEvent(0)]);
      const stop = new AbortController();
      const seen: number[] = [];
      const following = (async () => {
        for await (const batch of log.follow(1 as Seq, { signal: stop.signal })) {
          for (const c of batch) seen.push(c.seq);
          if (seen.length >= 6) stop.abort();
        }
      })();
      for (let i = 1; i < 6; i++) {
        await log.append([entityEvent(i)]);
        await new Promise((r) => setTimeout(r, 5));
      }
      await following;
      expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it("re-opens with its head and content intact and continues the chain", async () => {
      const tenant = freshTenant();
      const log = await openLog(tenant);
      await log.append([entityEvent(1)]);
      await log.append([entityEvent(2)]);
      const head = await log.head();
      await log.close();
      const again = await openLog(tenant);
      expect(await again.head()).toEqual(head);
      await again.append([entityEvent(3)]);
      expect(await collect(again.read(1 as Seq, { signatures: "all" }))).toEqual([1, 2, 3]);
    });

    it("encrypts payloads under the data key; the chain verifies without it", async () => {
      const tenant = freshTenant();
      const dataKey = testDataKey();
      const log = await openLog(tenant, { dataKey });
      const secret = `secret-${randomUUID()}`;
      await log.append([{ ...entityEvent(1), data: { note: secret } } as Event]);
      const raw = await log.backend.last();
      expect(Buffer.from(raw!.bytes).includes(Buffer.from(secret))).toBe(false);
      const events = await readEvents(log);
      expect(events[0]!.type === "entity.upserted" && events[0]!.data.note).toBe(secret);
      // A reader without the key verifies the chain but cannot decode.
      const blind = await TenantLog.open({ backend: await h.open(tenant, "read"), trusted });
      opened.push(blind);
      const commits: Parameters<TenantLog["events"]>[0][] = [];
      for await (const b of blind.read(1 as Seq, { signatures: "all" })) commits.push(...b);
      expect(commits).toHaveLength(1);
      expect(() => blind.events(commits[0]!)).toThrow(/encrypted/);
    });

    it("refuses commits from writers it does not trust", async () => {
      const tenant = freshTenant();
      const mallory = testSigner();
      const evil = await openLog(tenant, { signer: mallory.signer, trusted: mallory.trusted });
      await evil.append([entityEvent(1)]);
      const reader = await TenantLog.open({ backend: await h.open(tenant, "read"), trusted });
      opened.push(reader);
      const err = await collect(reader.read(1 as Seq)).catch((e: unknown) => e);
      expect(codeOf(err)).toBe("REM_ERR_UNKNOWN_KEY");
      expect((err as RemError).details.seq).toBe(1);
    });
  });
}
