import { spawn } from "node:child_process";
import { appendFile, readdir, readFile, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileLog } from "../../events/log/file/file-log.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import type { Seq } from "../../events/model/ids.js";
import { isRemError, RemError } from "../../src/errors.js";
import { T, entityEvent, testSigner } from "../support/fixtures.js";
import { tempDir } from "../support/tmp.js";

const { signer, trusted } = testSigner();
let root: { path: string; cleanup(): Promise<void> };
let n = 0;
const freshDir = () => join(root.path, `log-${n++}`);

beforeAll(async () => {
  root = await tempDir("rem-filelog-crash-");
});
afterAll(() => root.cleanup());

async function writer(dir: string, segmentBytes?: number): Promise<TenantLog> {
  return TenantLog.open({ backend: await FileLog.open({ dir, tenant: T, segmentBytes }), signer, trusted });
}

async function seqs(log: TenantLog, mode: "all" | "batch" = "all"): Promise<number[]> {
  const out: number[] = [];
  for await (const b of log.read(1 as Seq, { signatures: mode })) for (const c of b) out.push(c.seq);
  return out;
}

/** Frame boundaries of the only segment: [header end, end of frame 1, end of frame 2, …]. */
async function frameEnds(dir: string): Promise<number[]> {
  const seg = (await readdir(dir)).find((f) => f.endsWith(".seg"))!;
  const buf = await readFile(join(dir, seg));
  const ends = [84];
  let off = 84;
  while (off < buf.length) {
    off += 8 + (buf.readUInt32BE(off) & 0x7fffffff);
    ends.push(off);
  }
  return ends;
}

async function onlySegment(dir: string): Promise<string> {
  return join(dir, (await readdir(dir)).find((f) => f.endsWith(".seg"))!);
}

describe("embedded file log: crash recovery", () => {
  it("truncating the active segment at any offset recovers to the last whole commit (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.double({ min: 0, max: 1, noNaN: true }), async (commits, cut) => {
        const dir = freshDir();
        const log = await writer(dir);
        // Mixed group commits: some appends concurrent, some sequential.
        await Promise.all(Array.from({ length: Math.ceil(commits / 2) }, (_, i) => log.append([entityEvent(i)])));
        for (let i = Math.ceil(commits / 2); i < commits; i++) await log.append([entityEvent(i)]);
        await log.close();
        const ends = await frameEnds(dir);
        const size = ends[ends.length - 1]!;
        const offset = 84 + Math.floor(cut * (size - 84));
        await truncate(await onlySegment(dir), offset);
        const backend = await FileLog.open({ dir, tenant: T });
        const whole = ends.filter((e) => e <= offset).length - 1;
        expect(backend.lastSeq).toBe(whole);
        const cutMidFrame = !ends.includes(offset);
        expect(backend.recovery !== null).toBe(cutMidFrame);
        if (cutMidFrame) expect(backend.recovery).toMatchObject({ lastSeq: whole, reason: "incomplete frame" });
        const reopened = await TenantLog.open({ backend, signer, trusted });
        expect(await seqs(reopened)).toEqual(Array.from({ length: whole }, (_, i) => i + 1));
        // The chain continues from the recovered head.
        expect((await reopened.append([entityEvent(99)])).seq).toBe(whole + 1);
        expect(await seqs(reopened)).toHaveLength(whole + 1);
        await reopened.close();
      }),
      { numRuns: 40 },
    );
  });

  it("truncates a zero-filled tail (file extended, data never written) and reports it", async () => {
    const dir = freshDir();
    const log = await writer(dir);
    await log.append([entityEvent(1)]);
    await log.append([entityEvent(2)]);
    await log.close();
    await appendFile(await onlySegment(dir), Buffer.alloc(700));
    const backend = await FileLog.open({ dir, tenant: T });
    expect(backend.recovery).toMatchObject({ reason: "zero-filled tail", truncatedBytes: 700, lastSeq: 2 });
    expect(backend.lastSeq).toBe(2);
    await backend.close();
  });

  it("refuses to open when an acknowledged commit is damaged, and changes nothing", async () => {
    const dir = freshDir();
    const log = await writer(dir);
    for (let i = 1; i <= 5; i++) await log.append([entityEvent(i)]); // five separate group commits
    await log.close();
    const ends = await frameEnds(dir);
    const path = await onlySegment(dir);
    const bytes = await readFile(path);
    bytes[ends[1]! + 200]! ^= 0x40; // inside commit 2, which later group commits follow
    await writeFile(path, bytes);
    const err = await FileLog.open({ dir, tenant: T }).catch((e: unknown) => e);
    expect(isRemError(err, "REM_ERR_LOG_CORRUPT")).toBe(true);
    expect((err as RemError).details).toMatchObject({ seq: 2, offset: ends[1] });
    expect((err as RemError).message).toMatch(/commit 2/);
    expect((await stat(path)).size).toBe(bytes.length);
    // The lock was released: fixing the byte makes the log open again.
    bytes[ends[1]! + 200]! ^= 0x40;
    await writeFile(path, bytes);
    const ok = await FileLog.open({ dir, tenant: T });
    expect(ok.lastSeq).toBe(5);
    await ok.close();
  });

  it("reports damage in a sealed segment on read, naming the commit", async () => {
    const dir = freshDir();
    const log = await writer(dir, 2048);
    for (let i = 0; i < 12; i++) await log.append([entityEvent(i)]);
    await log.close();
    const segs = (await readdir(dir)).filter((f) => f.endsWith(".seg")).sort();
    expect(segs.length).toBeGreaterThan(2);
    const sealed = join(dir, segs[0]!);
    expect((await stat(sealed)).mode & 0o777).toBe(0o444);
    const bytes = await readFile(sealed);
    bytes[bytes.length - 100]! ^= 1;
    await unlink(sealed);
    await writeFile(sealed, bytes, { mode: 0o444 });
    const reader = await TenantLog.open({ backend: await FileLog.open({ dir, tenant: T, readOnly: true }), trusted });
    const err = await seqs(reader).catch((e: unknown) => e);
    expect(isRemError(err, "REM_ERR_CHECKSUM")).toBe(true);
    expect((err as RemError).details.segment).toBe(segs[0]);
    expect(typeof (err as RemError).details.seq).toBe("number");
  });
});

describe("embedded file log: segments, lock, readers", () => {
  it("rolls segments, seals them read-only with an index, and reads across them", async () => {
    const dir = freshDir();
    const log = await writer(dir, 4096);
    const results = [];
    // Ten group commits of four appends each; a segment rolls only between group commits.
    for (let k = 0; k < 10; k++) results.push(...(await Promise.all(Array.from({ length: 4 }, (_, i) => log.append([entityEvent(k * 4 + i)])))));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await log.close();
    const files = await readdir(dir);
    const segs = files.filter((f) => f.endsWith(".seg")).sort();
    const idx = files.filter((f) => f.endsWith(".idx"));
    expect(segs.length).toBeGreaterThan(3);
    expect(idx.length).toBe(segs.length - 1);
    // A lost index is rebuilt on open.
    await unlink(join(dir, idx[0]!));
    const again = await writer(dir, 4096);
    expect((await readdir(dir)).filter((f) => f.endsWith(".idx"))).toHaveLength(idx.length);
    expect(await seqs(again)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const mid: number[] = [];
    for await (const b of again.read(17 as Seq, { until: 23 as Seq })) for (const c of b) mid.push(c.seq);
    expect(mid).toEqual([17, 18, 19, 20, 21, 22, 23]);
    await again.close();
  });

  it("admits one writer per directory, and takes over a dead process's lock", async () => {
    const dir = freshDir();
    const first = await FileLog.open({ dir, tenant: T });
    const err = await FileLog.open({ dir, tenant: T }).catch((e: unknown) => e);
    expect(isRemError(err, "REM_ERR_LOG_LOCKED")).toBe(true);
    await first.close();
    // A lock left by a process that has exited.
    const child = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => child.on("exit", r));
    await writeFile(join(dir, "LOCK"), `${child.pid}@${(await import("node:os")).hostname()}`);
    const second = await FileLog.open({ dir, tenant: T });
    await second.close();
  });

  it("lets a read-only reader follow a writer in another instance", async () => {
    const dir = freshDir();
    const log = await writer(dir);
    await log.append([entityEvent(0)]);
    const reader = await TenantLog.open({ backend: await FileLog.open({ dir, tenant: T, readOnly: true, pollMs: 10 }), trusted });
    const stop = new AbortController();
    const seen: number[] = [];
    const following = (async () => {
      for await (const b of reader.follow(1 as Seq, { signal: stop.signal })) {
        for (const c of b) seen.push(c.seq);
        if (seen.length >= 4) stop.abort();
      }
    })();
    for (let i = 1; i < 4; i++) await log.append([entityEvent(i)]);
    await following;
    expect(seen).toEqual([1, 2, 3, 4]);
    await reader.close();
    await log.close();
  });

  it("rejects appends after close with a typed error", async () => {
    const dir = freshDir();
    const log = await writer(dir);
    await log.close();
    const err = await log.append([entityEvent(1)]).catch((e: unknown) => e);
    expect(isRemError(err, "REM_ERR_LOG_CLOSED")).toBe(true);
  });
});
