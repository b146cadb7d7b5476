import { chmod, mkdir, open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { syncDirectory } from "../../events/keys/files.js";
import { FRAME_HEADER, writeFrame } from "../../events/log/file/frame.js";
import { encodeSegmentHeader, indexFileName, segmentFileName, SEGMENT_HEADER } from "../../events/log/file/segment-header.js";
import { writeIndex } from "../../events/log/file/segment-index.js";

/**
 * Segment bytes in the embedded log's exact format (docs/event-format.md §5.2,
 * §5.3): the 84-byte header, then one frame per commit. Every frame has the
 * group-commit bit set: each commit of an archived or restored segment was
 * acknowledged long ago, so the file log's recovery must treat damage to any of
 * them as damage, never as a torn tail to cut off (§5.5).
 */
export function encodeSegment(tenant: string, firstSeq: number, commits: readonly Uint8Array[]): { bytes: Uint8Array; offsets: Uint32Array } {
  let size = SEGMENT_HEADER;
  for (const c of commits) size += FRAME_HEADER + c.length;
  const bytes = new Uint8Array(size);
  bytes.set(encodeSegmentHeader(tenant, firstSeq), 0);
  const offsets = new Uint32Array(commits.length);
  let off = SEGMENT_HEADER;
  for (let i = 0; i < commits.length; i++) {
    offsets[i] = off;
    off += writeFrame(bytes, off, commits[i]!, true);
  }
  return { bytes, offsets };
}

/** The size a segment of these commits will have. */
export function segmentSize(commitBytes: number, commits: number): number {
  return SEGMENT_HEADER + commitBytes + FRAME_HEADER * commits;
}

/**
 * Writes a tenant's embedded log directory from verified commits, in order:
 * segments of up to `segmentBytes`, each sealed (index written, read-only)
 * when the next one starts; the last one stays active, as the file log leaves
 * it. Everything is fsynced before `finish` returns. Used by restore, which
 * writes into a staging directory nobody else opens.
 */
export class SegmentFileWriter {
  readonly #dir: string;
  readonly #tenant: string;
  readonly #segmentBytes: number;
  #fh: FileHandle | null = null;
  #firstSeq = 0;
  #offsets: number[] = [];
  #end = 0;
  #nextSeq = 1;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #segments = 0;

  constructor(dir: string, tenant: string, segmentBytes = 64 * 1024 * 1024) {
    this.#dir = dir;
    this.#tenant = tenant;
    this.#segmentBytes = segmentBytes;
  }

  get segments(): number {
    return this.#segments;
  }

  /** Appends commits `seq, seq+1, …` (the caller has verified them). */
  async append(commits: readonly { seq: number; bytes: Uint8Array }[]): Promise<void> {
    for (const c of commits) {
      if (c.seq !== this.#nextSeq) throw new Error(`segment writer: expected commit ${this.#nextSeq}, got ${c.seq}`);
      if (this.#fh === null) await this.#startSegment(c.seq);
      else if (this.#end + this.#pendingBytes >= this.#segmentBytes) {
        await this.#seal();
        await this.#startSegment(c.seq);
      }
      this.#offsets.push(this.#end + this.#pendingBytes);
      this.#pending.push(c.bytes);
      this.#pendingBytes += FRAME_HEADER + c.bytes.length;
      this.#nextSeq++;
      if (this.#pendingBytes >= 4 * 1024 * 1024) await this.#write();
    }
  }

  /** Flushes and fsyncs the active segment and the directory. */
  async finish(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    if (this.#fh !== null) {
      await this.#write();
      await this.#fh.datasync();
      await this.#fh.close();
      this.#fh = null;
    }
    await syncDirectory(this.#dir);
  }

  /** Closes without syncing (after a failure; the staging directory is removed anyway). */
  async abort(): Promise<void> {
    await this.#fh?.close().catch(() => undefined);
    this.#fh = null;
  }

  async #startSegment(firstSeq: number): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    this.#fh = await open(join(this.#dir, segmentFileName(firstSeq)), "wx");
    await this.#fh.write(encodeSegmentHeader(this.#tenant, firstSeq), 0, SEGMENT_HEADER, 0);
    this.#firstSeq = firstSeq;
    this.#offsets = [];
    this.#end = SEGMENT_HEADER;
    this.#segments++;
  }

  async #write(): Promise<void> {
    if (this.#pending.length === 0) return;
    const buf = new Uint8Array(this.#pendingBytes);
    let off = 0;
    for (const c of this.#pending) off += writeFrame(buf, off, c, true);
    await this.#fh!.write(buf, 0, buf.length, this.#end);
    this.#end += buf.length;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  async #seal(): Promise<void> {
    await this.#write();
    const fh = this.#fh!;
    await fh.datasync();
    await fh.close();
    this.#fh = null;
    await writeIndex(join(this.#dir, indexFileName(this.#firstSeq)), { firstSeq: this.#firstSeq, offsets: Uint32Array.from(this.#offsets), end: this.#end });
    await chmod(join(this.#dir, segmentFileName(this.#firstSeq)), 0o444);
  }
}
