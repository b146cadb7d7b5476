import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DataKey } from "../../events/commit-builder.js";
import { FileLog } from "../../events/log/file/file-log.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import type { LogBackend } from "../../events/log/types.js";
import type { Event } from "../../events/model/events.js";
import { tenantName, type Seq, type TenantName } from "../../events/model/ids.js";
import { validateEvent } from "../../events/model/validate.js";
import { entityEvent, resolverFor, testDataKey, testSigner } from "../support/fixtures.js";
import { tempDir } from "../support/tmp.js";

/**
 * TenantLog.append encodes into a buffer shared by all appends and copies it
 * into the commit before it first awaits (or keeps its own copy when it must
 * wait, e.g. for the head). Concurrent appends, with and without a known head,
 * plain and encrypted, must each store exactly their own events.
 */

let dir: { path: string; cleanup(): Promise<void> };
let n = 0;
const { signer, trusted } = testSigner();

beforeAll(async () => {
  dir = await tempDir("rem-tenantlog-");
});
afterAll(async () => {
  await dir.cleanup();
});

async function open(backend: LogBackend, tenant: TenantName, dataKey?: DataKey): Promise<TenantLog> {
  return TenantLog.open({ backend, signer, trusted, encryptWith: dataKey, dataKeys: dataKey ? resolverFor(tenant, dataKey) : undefined });
}

async function readAll(log: TenantLog): Promise<Event[]> {
  const out: Event[] = [];
  for await (const batch of log.read(1 as Seq)) for (const c of batch) out.push(...log.events(c));
  return out;
}

/** Distinct content per batch (sizes differ too), so a payload taken from another append shows. */
function batch(i: number): Event[] {
  return Array.from({ length: 1 + (i % 7) }, (_, j) => ({ ...entityEvent(i * 10 + j), data: { i, j, pad: "x".repeat((i * 37) % 500) } }));
}

/** A backend whose last() can be held, to start appends while TenantLog is re-reading its head. */
class GatedBackend implements LogBackend {
  lastCalls = 0;
  gate: Promise<void> | null = null;
  constructor(readonly inner: LogBackend) {}
  get kind() {
    return this.inner.kind;
  }
  get tenant() {
    return this.inner.tenant;
  }
  get maxCommitBytes() {
    return this.inner.maxCommitBytes;
  }
  async last() {
    this.lastCalls++;
    if (this.gate) await this.gate;
    return this.inner.last();
  }
  append(...args: Parameters<LogBackend["append"]>) {
    return this.inner.append(...args);
  }
  read(...args: Parameters<LogBackend["read"]>) {
    return this.inner.read(...args);
  }
  follow(...args: Parameters<LogBackend["follow"]>) {
    return this.inner.follow(...args);
  }
  close() {
    return this.inner.close();
  }
}

describe("TenantLog.append with concurrent callers", () => {
  for (const encrypted of [false, true]) {
    it(`keeps the payloads of calls that wait for the head (${encrypted ? "encrypted" : "plain"})`, async () => {
      const tenant = tenantName(`g${++n}`);
      const backend = new GatedBackend(await FileLog.open({ dir: join(dir.path, tenant), tenant }));
      const dataKey = encrypted ? testDataKey() : undefined;
      const a = await open(backend, tenant, dataKey);
      const b = await open(backend, tenant, dataKey);
      const first = batch(1);
      await b.append(first); // `a` is now stale
      let release = (): void => undefined;
      backend.gate = new Promise((r) => (release = r));
      const calls = backend.lastCalls;
      const batches = Array.from({ length: 8 }, (_, i) => batch(i + 2));
      const p0 = a.append(batches[0]!); // conflicts, forgets the head, waits for last()
      while (backend.lastCalls === calls) await new Promise((r) => setTimeout(r, 1));
      const rest = batches.slice(1).map((evs) => a.append(evs)); // each encodes, then waits for the same head
      release();
      const results = await Promise.all([p0, ...rest]);
      expect(results.map((r) => r.seq)).toEqual(batches.map((_, i) => i + 2));
      expect(await readAll(a)).toEqual([first, ...batches].flat().map((e) => validateEvent(e)));
      await a.close();
    });
  }

  for (const encrypted of [false, true]) {
    it(`stores each call's own events (${encrypted ? "encrypted" : "plain"}), also when the head must be re-read`, async () => {
      const tenant = tenantName(`c${++n}`);
      const backend = await FileLog.open({ dir: join(dir.path, tenant), tenant, segmentBytes: 64 * 1024 });
      const dataKey = encrypted ? testDataKey() : undefined;
      const a = await open(backend, tenant, dataKey);
      // A second writer on the same backend: its appends make `a`'s head stale, so `a` loses
      // races, forgets its head and re-reads it while other calls keep encoding.
      const b = await open(backend, tenant, dataKey);
      const batches = Array.from({ length: 80 }, (_, i) => batch(i));
      const results = [];
      for (let round = 0; round < 8; round++) {
        // Nine concurrent calls on `a` (stale after b's append: the first conflicts, the rest wait for the head), then one on `b`.
        const group = batches.slice(round * 10, round * 10 + 9);
        results.push(...(await Promise.all(group.map((evs) => a.append(evs)))));
        results.push(await b.append(batches[round * 10 + 9]!));
      }
      expect(results.every((r) => !r.duplicate)).toBe(true);
      const bySeq = new Map(results.map((r, i) => [r.seq as number, batches[i]!]));
      expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual(batches.map((_, i) => i + 1));
      const expected = [...bySeq.entries()].sort(([x], [y]) => x - y).flatMap(([, evs]) => evs.map((e) => validateEvent(e)));
      expect(await readAll(a)).toEqual(expected);
      await a.close();
    });
  }
});
