import { chmod, mkdir, open, readdir, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { RemError } from "../../../src/errors.js";
import { toHex } from "../../hash.js";
import type { CommitId, Seq, TenantName } from "../../model/ids.js";
import { peekSeq } from "../../codec/commit.js";
import { DEFAULT_MAX_COMMIT_BYTES, type AppendAck, type AppendRequest, type FollowOptions, type LogBackend, type RawCommit, type ReadOptions } from "../types.js";
import { DirLock } from "./lock.js";
import { checkFrame, findBatchStartAfter, FRAME_HEADER, writeFrame } from "./frame.js";
import { decodeSegmentHeader, encodeSegmentHeader, indexFileName, parseSegmentFileName, segmentFileName, SEGMENT_HEADER } from "./segment-header.js";
import { readIndex, writeIndex } from "./segment-index.js";

export interface FileLogOptions {
  /** The tenant's log directory (segments, indexes, LOCK). */
  readonly dir: string;
  readonly tenant: TenantName;
  /** Roll to a new segment once the active one reaches this size (default 64 MiB). */
  readonly segmentBytes?: number;
  readonly maxCommitBytes?: number;
  /** Most bytes written by one group commit (one write + fdatasync); default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** A commit id seen within this window is recognised as a retry (default 2 minutes, like JetStream). */
  readonly dedupWindowMs?: number;
  /** Open without the lock, never modifying files: for readers beside a running writer. */
  readonly readOnly?: boolean;
  /** How often a read-only follower looks for new commits (default 50 ms). */
  readonly pollMs?: number;
  /** How long to wait for another process's writer lock (default 0: fail at once). */
  readonly lockWaitMs?: number;
}

/** What opening the log repaired: a torn tail from a crash mid-write, cut off. */
export interface RecoveryReport {
  readonly segment: string;
  readonly offset: number;
  readonly truncatedBytes: number;
  readonly reason: string;
  readonly lastSeq: number;
}

interface Segment {
  readonly firstSeq: number;
  readonly name: string;
  readonly path: string;
  /** Frame start offsets; for sealed segments loaded from the index on demand. */
  offsets: Uint32Array | number[] | null;
  count: number;
  end: number;
  sealed: boolean;
}

interface Pending {
  readonly request: AppendRequest;
  resolve(ack: AppendAck): void;
  reject(err: unknown): void;
}

const READ_CHUNK = 1 << 20;
const READ_BATCH = 512;

/**
 * The embedded log: one directory of segment files per tenant. Appends are
 * framed (length + CRC-32), group-committed (one write and one fdatasync for
 * all appends waiting) and acknowledged only after fdatasync returns. Sealed
 * segments are made read-only and never change. Opening truncates a torn tail
 * (a crash mid-write) and reports it; damage anywhere else is an error, never a
 * silent skip.
 */
export class FileLog implements LogBackend {
  readonly kind = "file" as const;
  readonly tenant: TenantName;
  readonly maxCommitBytes: number;
  readonly dir: string;
  /** Set when opening cut off a torn tail. */
  recovery: RecoveryReport | null = null;

  readonly #segmentBytes: number;
  readonly #maxBatchBytes: number;
  readonly #dedupWindowMs: number;
  readonly #readOnly: boolean;
  readonly #pollMs: number;
  readonly #lockWaitMs: number;
  #lock: DirLock | null = null;
  #segments: Segment[] = [];
  #fh: FileHandle | null = null;
  #lastSeq = 0;
  #lastBytes: Uint8Array | null = null;
  #lastCommitId: string | null = null;
  #queuedSeq = 0;
  #queuedCommitId: string | null = null;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #dedup = new Map<string, { seq: number; ts: number }>();
  #inflight = new Map<string, Promise<AppendAck>>();
  #waiters = new Set<() => void>();
  #failed: RemError | null = null;
  #closed = false;
  /**
   * Group-commit write buffer, reused by the batches of one busy spell (they are
   * written one at a time) and dropped when the queue empties: a new ~4 MB buffer
   * per batch is off-heap churn that forces full GCs.
   */
  #writeBuf: Uint8Array | null = null;

  private constructor(o: FileLogOptions) {
    this.dir = o.dir;
    this.tenant = o.tenant;
    this.maxCommitBytes = o.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES;
    this.#segmentBytes = o.segmentBytes ?? 64 * 1024 * 1024;
    this.#maxBatchBytes = Math.max(o.maxBatchBytes ?? 4 * 1024 * 1024, this.maxCommitBytes + FRAME_HEADER);
    this.#dedupWindowMs = o.dedupWindowMs ?? 120_000;
    this.#readOnly = o.readOnly ?? false;
    this.#pollMs = o.pollMs ?? 50;
    this.#lockWaitMs = o.lockWaitMs ?? 0;
  }

  static async open(options: FileLogOptions): Promise<FileLog> {
    const log = new FileLog(options);
    try {
      await log.#open();
    } catch (err) {
      await log.#lock?.release();
      await log.#fh?.close().catch(() => undefined);
      throw err;
    }
    return log;
  }

  get lastSeq(): Seq {
    return this.#lastSeq as Seq;
  }

  async last(): Promise<RawCommit | null> {
    if (this.#readOnly) await this.#refresh();
    if (this.#lastSeq === 0 || this.#lastBytes === null) return null;
    return { seq: this.#lastSeq as Seq, bytes: this.#lastBytes };
  }

  append(request: AppendRequest): Promise<AppendAck> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#readOnly) return Promise.reject(new RemError("REM_ERR_INVALID_ARGUMENT", "this log was opened read-only", { tenant: this.tenant }));
    if (this.#failed) return Promise.reject(this.#failed);
    const { commitId } = request;
    const seen = this.#dedup.get(commitId);
    if (seen !== undefined) return Promise.resolve({ seq: seen.seq as Seq, duplicate: true });
    const inflight = this.#inflight.get(commitId);
    if (inflight !== undefined) return inflight.then((a) => ({ seq: a.seq, duplicate: true }));
    if (request.bytes.length > this.maxCommitBytes) {
      return Promise.reject(new RemError("REM_ERR_COMMIT_TOO_LARGE", `commit is ${request.bytes.length} bytes; the limit is ${this.maxCommitBytes}`, { tenant: this.tenant }));
    }
    if (request.seq !== this.#queuedSeq + 1 || peekSeq(request.bytes) !== request.seq) {
      return Promise.reject(this.#conflict(request.seq - 1));
    }
    if (request.prevCommitId !== undefined && request.prevCommitId !== this.#queuedCommitId) {
      return Promise.reject(this.#conflict(request.seq - 1));
    }
    this.#queuedSeq = request.seq;
    this.#queuedCommitId = commitId;
    const p = new Promise<AppendAck>((resolve, reject) => this.#queue.push({ request, resolve, reject }));
    this.#inflight.set(commitId, p);
    const clear = () => this.#inflight.delete(commitId);
    p.then(clear, clear);
    if (this.#flushing === null) this.#flushing = this.#drain();
    return p;
  }

  async *read(from: Seq, options: ReadOptions = {}): AsyncGenerator<RawCommit[]> {
    if (!Number.isSafeInteger(from) || from < 1) throw new RemError("REM_ERR_INVALID_ARGUMENT", `read from ${from}: sequences start at 1`, { tenant: this.tenant });
    if (this.#readOnly) await this.#refresh();
    const until = Math.min(options.until ?? this.#lastSeq, this.#lastSeq);
    let seq: number = from;
    while (seq <= until) {
      if (options.signal?.aborted) return;
      const segment = this.#segmentFor(seq);
      const offsets = await this.#offsets(segment);
      const stopSeq = Math.min(until, segment.firstSeq + segment.count - 1);
      const start = offsets[seq - segment.firstSeq]!;
      const end = stopSeq - segment.firstSeq + 1 < offsets.length ? offsets[stopSeq - segment.firstSeq + 1]! : segment.end;
      for await (const batch of this.#readRange(segment, seq, start, end)) {
        yield batch;
        seq = batch[batch.length - 1]!.seq + 1;
        if (options.signal?.aborted) return;
      }
      if (seq <= stopSeq) {
        throw new RemError("REM_ERR_LOG_CORRUPT", `segment ${segment.name}: ended before commit ${seq}`, { tenant: this.tenant, segment: segment.name, seq });
      }
    }
  }

  async *follow(from: Seq, options: FollowOptions): AsyncGenerator<RawCommit[]> {
    let next: number = from;
    const { signal } = options;
    while (!signal.aborted && !this.#closed) {
      for await (const batch of this.read(next as Seq, { signal })) {
        yield batch;
        next = batch[batch.length - 1]!.seq + 1;
      }
      await this.#waitFor(next, signal);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing) await this.#flushing; // finish in-flight appends
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    await this.#fh?.close();
    this.#fh = null;
    await this.#lock?.release();
  }

  // ---- opening and recovery ------------------------------------------------

  async #open(): Promise<void> {
    if (!this.#readOnly) {
      await mkdir(this.dir, { recursive: true });
      this.#lock = await DirLock.acquire(this.dir, `the log of tenant ${this.tenant} (${this.dir})`, this.#lockWaitMs);
    }
    await this.#loadSegments();
    if (!this.#readOnly) {
      const active = this.#segments[this.#segments.length - 1];
      if (active === undefined || active.sealed) await this.#createSegment(this.#lastSeq + 1);
      else this.#fh = await open(active.path, "r+");
    }
    this.#queuedSeq = this.#lastSeq;
    this.#queuedCommitId = this.#lastCommitId;
  }

  async #loadSegments(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && this.#readOnly) return;
      throw err;
    }
    const firsts = names.map(parseSegmentFileName).filter((n): n is number => n !== null).sort((a, b) => a - b);
    const segments: Segment[] = [];
    let expected = 1;
    for (let i = 0; i < firsts.length; i++) {
      const firstSeq = firsts[i]!;
      const name = segmentFileName(firstSeq);
      if (firstSeq !== expected) {
        throw new RemError("REM_ERR_LOG_CORRUPT", `tenant ${this.tenant}: segment ${name} starts at commit ${firstSeq}, expected ${expected} (a segment is missing)`, {
          tenant: this.tenant,
          segment: name,
          seq: expected,
        });
      }
      const isLast = i === firsts.length - 1;
      // Segments already known and sealed are unchanged; a read-only refresh only rescans the tail.
      const known = this.#segments.find((s) => s.firstSeq === firstSeq);
      let seg: Segment;
      if (known !== undefined && known.sealed) {
        seg = known;
      } else {
        seg = known ?? { firstSeq, name, path: join(this.dir, name), offsets: null, count: 0, end: 0, sealed: false };
        const index = await readIndex(join(this.dir, indexFileName(firstSeq)), firstSeq);
        if (index !== null && (known === undefined || known.count === index.offsets.length)) {
          seg.sealed = true;
          seg.count = index.offsets.length;
          seg.end = index.end;
          seg.offsets = index.offsets;
        } else {
          // The last segment is the active one. An unsealed one before it means a crash mid-seal: rebuild its index.
          await this.#scan(seg, isLast);
          if (!isLast) {
            if (!this.#readOnly) await this.#seal(seg);
            seg.sealed = true;
          }
        }
      }
      segments.push(seg);
      expected = firstSeq + seg.count;
    }
    this.#segments = segments;
    const lastSeg = [...segments].reverse().find((s) => s.count > 0);
    if (lastSeg !== undefined && this.#lastSeq !== lastSeg.firstSeq + lastSeg.count - 1) {
      const seq = lastSeg.firstSeq + lastSeg.count - 1;
      for await (const batch of this.#readRange(lastSeg, seq, (await this.#offsets(lastSeg))[seq - lastSeg.firstSeq]!, lastSeg.end)) {
        const c = batch[batch.length - 1]!;
        this.#lastSeq = c.seq;
        this.#lastBytes = c.bytes;
        this.#lastCommitId = toHex(c.bytes.subarray(56, 72));
      }
    }
  }

  /**
   * Reads a segment from where we last stopped (the header for a new one), checking
   * every frame; `active` allows (and, unless read-only, repairs) a torn tail.
   */
  async #scan(seg: Segment, active: boolean): Promise<void> {
    const fh = await open(seg.path, active && !this.#readOnly ? "r+" : "r");
    try {
      const size = (await fh.stat()).size;
      const from = seg.offsets === null ? 0 : seg.end;
      const buf = new Uint8Array(size - from);
      await fh.read(buf, 0, buf.length, from);
      if (from === 0) {
        const header = decodeSegmentHeader(buf, seg.name);
        if (header.tenant !== this.tenant || header.firstSeq !== seg.firstSeq) {
          throw new RemError("REM_ERR_LOG_CORRUPT", `segment ${seg.name} belongs to tenant ${header.tenant} at ${header.firstSeq}, not ${this.tenant} at ${seg.firstSeq}`, {
            tenant: this.tenant,
            segment: seg.name,
          });
        }
      }
      const offsets: number[] = seg.offsets === null ? [] : Array.from(seg.offsets);
      let off = from === 0 ? SEGMENT_HEADER : 0;
      const recentFrom = Date.now() - this.#dedupWindowMs;
      while (off < buf.length) {
        const f = checkFrame(buf, off, this.maxCommitBytes);
        const seq = seg.firstSeq + offsets.length;
        if (f.kind === "ok" && f.commit.length >= 24 && peekSeq(f.commit) === seq) {
          offsets.push(from + off);
          if (!this.#readOnly) {
            const ts = Number(new DataView(f.commit.buffer, f.commit.byteOffset + 16, 8).getBigUint64(0));
            if (ts >= recentFrom) this.#remember(toHex(f.commit.subarray(56, 72)), seq, ts);
          }
          off += f.length;
          continue;
        }
        const reason = f.kind === "ok" ? `frame holds commit ${peekSeq(f.commit)}, expected ${seq}` : f.kind === "short" ? "incomplete frame" : f.kind === "zero" ? "zero-filled tail" : "checksum mismatch";
        // A crash can only tear the last group commit. If a later group commit starts after this
        // frame, this one was acknowledged (fdatasync returned before the next write began): that is
        // damage, not a torn write. (A read-only reader may also meet a frame still being written.)
        if (active && findBatchStartAfter(buf, off, this.maxCommitBytes) === null) {
          if (!this.#readOnly) {
            this.recovery = { segment: seg.name, offset: from + off, truncatedBytes: buf.length - off, reason, lastSeq: seq - 1 };
            await fh.truncate(from + off);
            await fh.datasync();
          }
          break;
        }
        throw new RemError("REM_ERR_LOG_CORRUPT", `tenant ${this.tenant}: segment ${seg.name} is damaged at byte ${from + off} (commit ${seq}): ${reason}`, {
          tenant: this.tenant,
          segment: seg.name,
          offset: from + off,
          seq,
        });
      }
      seg.offsets = offsets;
      seg.count = offsets.length;
      seg.end = from + off;
    } finally {
      await fh.close();
    }
  }

  /** Read-only instances pick up what the writer appended since they last looked. */
  async #refresh(): Promise<void> {
    if (this.#readOnly) await this.#loadSegments();
  }

  // ---- writing ---------------------------------------------------------------

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.#queue.length && (n === 0 || bytes + FRAME_HEADER + this.#queue[n]!.request.bytes.length <= this.#maxBatchBytes)) {
          bytes += FRAME_HEADER + this.#queue[n]!.request.bytes.length;
          n++;
        }
        const batch = this.#queue.splice(0, n);
        await this.#writeBatch(batch, bytes);
      }
    } finally {
      this.#writeBuf = null;
      this.#flushing = null;
    }
  }

  async #writeBatch(batch: Pending[], bytes: number): Promise<void> {
    const seg = this.#segments[this.#segments.length - 1]!;
    const fh = this.#fh!;
    if (this.#writeBuf === null || this.#writeBuf.length < bytes) {
      // Grows by doubling up to the batch limit, so a light load keeps it small.
      // Not zero-filled: writeFrame fills every byte of [0, bytes).
      const size = Math.max(bytes, Math.min(this.#maxBatchBytes, 2 * (this.#writeBuf?.length ?? 0)));
      this.#writeBuf = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer);
    }
    const buf = this.#writeBuf;
    const starts: number[] = [];
    let off = 0;
    for (const p of batch) {
      starts.push(seg.end + off);
      off += writeFrame(buf, off, p.request.bytes, off === 0);
    }
    try {
      await fh.write(buf, 0, bytes, seg.end);
      await fh.datasync();
    } catch (cause) {
      const err = new RemError("REM_ERR_LOG_UNAVAILABLE", `tenant ${this.tenant}: writing segment ${seg.name} failed: ${(cause as Error).message}`, {
        tenant: this.tenant,
        segment: seg.name,
        seq: batch[0]!.request.seq,
      }, { cause });
      const rest = this.#queue.splice(0);
      for (const p of [...batch, ...rest]) p.reject(err);
      this.#queuedSeq = this.#lastSeq;
      this.#queuedCommitId = this.#lastCommitId;
      try {
        await fh.truncate(seg.end); // take back a partial write so the next append starts clean
        await fh.datasync();
      } catch {
        this.#failed = err; // cannot restore a clean tail: refuse further appends until reopened
      }
      return;
    }
    const offsets = seg.offsets as number[];
    for (const s of starts) offsets.push(s);
    seg.count += batch.length;
    seg.end += bytes;
    const now = Date.now();
    for (const p of batch) this.#remember(p.request.commitId, p.request.seq, now);
    const last = batch[batch.length - 1]!.request;
    this.#lastSeq = last.seq;
    this.#lastBytes = last.bytes;
    this.#lastCommitId = last.commitId;
    for (const p of batch) p.resolve({ seq: p.request.seq, duplicate: false });
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    if (seg.end >= this.#segmentBytes) {
      try {
        await this.#roll();
      } catch (cause) {
        this.#failed = new RemError("REM_ERR_LOG_UNAVAILABLE", `tenant ${this.tenant}: rolling segment ${seg.name} failed: ${(cause as Error).message}`, { tenant: this.tenant }, { cause });
      }
    }
  }

  async #roll(): Promise<void> {
    const seg = this.#segments[this.#segments.length - 1]!;
    await this.#fh!.close();
    this.#fh = null;
    await this.#seal(seg);
    await this.#createSegment(this.#lastSeq + 1);
  }

  /** Writes the index (which marks the segment sealed) and makes the file read-only. */
  async #seal(seg: Segment): Promise<void> {
    const offsets = Uint32Array.from(seg.offsets ?? []);
    await writeIndex(join(this.dir, indexFileName(seg.firstSeq)), { firstSeq: seg.firstSeq, offsets, end: seg.end });
    await chmod(seg.path, 0o444);
    await syncDir(this.dir);
    seg.offsets = offsets;
    seg.sealed = true;
  }

  async #createSegment(firstSeq: number): Promise<void> {
    const name = segmentFileName(firstSeq);
    const path = join(this.dir, name);
    // A leftover empty file from a crash mid-roll is replaced; one with frames would have been found by the scan.
    const existing = await stat(path).catch(() => null);
    if (existing !== null && existing.size <= SEGMENT_HEADER) await unlink(path);
    const fh = await open(path, "wx+");
    await fh.write(encodeSegmentHeader(this.tenant, firstSeq), 0, SEGMENT_HEADER, 0);
    await fh.datasync();
    await syncDir(this.dir);
    this.#fh = fh;
    this.#segments.push({ firstSeq, name, path, offsets: [], count: 0, end: SEGMENT_HEADER, sealed: false });
  }

  #remember(commitId: string, seq: number, ts: number): void {
    this.#dedup.set(commitId, { seq, ts });
    if (this.#dedup.size % 1024 === 0) {
      const cutoff = Date.now() - this.#dedupWindowMs;
      for (const [id, e] of this.#dedup) {
        if (e.ts >= cutoff) break; // insertion order is time order
        this.#dedup.delete(id);
      }
    }
  }

  // ---- reading ---------------------------------------------------------------

  #segmentFor(seq: number): Segment {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid]!.firstSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo];
    if (seg === undefined || seq < seg.firstSeq || seq >= seg.firstSeq + seg.count) {
      throw new RemError("REM_ERR_NOT_FOUND", `tenant ${this.tenant}: no commit ${seq} (the log ends at ${this.#lastSeq})`, { tenant: this.tenant, seq });
    }
    return seg;
  }

  async #offsets(seg: Segment): Promise<Uint32Array | number[]> {
    if (seg.offsets !== null) return seg.offsets;
    const index = await readIndex(join(this.dir, indexFileName(seg.firstSeq)), seg.firstSeq);
    if (index === null) {
      throw new RemError("REM_ERR_LOG_CORRUPT", `tenant ${this.tenant}: the index of sealed segment ${seg.name} is missing or damaged`, { tenant: this.tenant, segment: seg.name });
    }
    seg.offsets = index.offsets;
    return index.offsets;
  }

  async *#readRange(seg: Segment, firstSeq: number, start: number, end: number): AsyncGenerator<RawCommit[]> {
    const fh = await open(seg.path, "r");
    try {
      let seq = firstSeq;
      let pos = start;
      let carry: Uint8Array = new Uint8Array(0);
      while (pos < end || carry.length > 0) {
        const want = Math.min(READ_CHUNK, end - pos);
        let buf: Uint8Array;
        if (want > 0) {
          const chunk = new Uint8Array(carry.length + want);
          chunk.set(carry, 0);
          const { bytesRead } = await fh.read(chunk, carry.length, want, pos);
          if (bytesRead < want) {
            throw new RemError("REM_ERR_LOG_CORRUPT", `segment ${seg.name}: file shorter than expected at byte ${pos + bytesRead}`, { tenant: this.tenant, segment: seg.name, seq });
          }
          pos += want;
          buf = chunk;
        } else {
          buf = carry;
        }
        let off = 0;
        let batch: RawCommit[] = [];
        const base = pos - buf.length; // file offset of buf[0]
        while (off < buf.length) {
          const f = checkFrame(buf, off, this.maxCommitBytes);
          if (f.kind === "short" && pos < end) break; // rest arrives with the next chunk
          if (f.kind !== "ok") {
            throw new RemError("REM_ERR_CHECKSUM", `tenant ${this.tenant}: commit ${seq} in segment ${seg.name} at byte ${base + off} is damaged (${f.kind === "short" ? "truncated" : "checksum mismatch"})`, {
              tenant: this.tenant,
              segment: seg.name,
              offset: base + off,
              seq,
            });
          }
          // Copy out of the shared chunk so callers may keep commits.
          batch.push({ seq: seq as Seq, bytes: f.commit.slice() });
          seq++;
          off += f.length;
          if (batch.length >= READ_BATCH) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) yield batch;
        carry = buf.subarray(off);
        if (pos >= end && carry.length > 0 && off === 0) {
          throw new RemError("REM_ERR_CHECKSUM", `segment ${seg.name}: truncated frame at byte ${base + off}`, { tenant: this.tenant, segment: seg.name, seq });
        }
      }
    } finally {
      await fh.close();
    }
  }

  #waitFor(seq: number, signal: AbortSignal): Promise<void> {
    if (this.#lastSeq >= seq || signal.aborted || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        if (timer) clearTimeout(timer);
        resolve();
      };
      signal.addEventListener("abort", done, { once: true });
      if (this.#readOnly) timer = setTimeout(done, this.#pollMs); // another process writes: poll
      else this.#waiters.add(done);
    });
  }

  #conflict(expectedLast: number): RemError {
    return new RemError("REM_ERR_LOG_CONFLICT", `tenant ${this.tenant}: expected the log to end at commit ${expectedLast}, but it ends at ${this.#queuedSeq}`, {
      tenant: this.tenant,
      expectedSeq: expectedLast,
      actualSeq: this.#queuedSeq,
    });
  }

  #closedError(): RemError {
    return new RemError("REM_ERR_LOG_CLOSED", `tenant ${this.tenant}: the log is closed`, { tenant: this.tenant });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export type { CommitId };
