import { RemError, isRemError } from "../../src/errors.js";
import { parseCommit } from "../../events/codec/commit.js";
import { blake3, toHex } from "../../events/hash.js";
import type { Seq, TenantName } from "../../events/model/ids.js";
import { checkFrame } from "../../events/log/file/frame.js";
import { decodeSegmentHeader, SEGMENT_HEADER } from "../../events/log/file/segment-header.js";
import { DEFAULT_MAX_COMMIT_BYTES, type AppendAck, type LogBackend, type RawCommit, type ReadOptions } from "../../events/log/types.js";
import { objectKey, segmentFor, type Manifest, type ManifestSegment } from "./manifest.js";
import type { ObjectStore } from "./object-store.js";

const BATCH = 512;

export interface ArchiveBackendOptions {
  readonly store: ObjectStore;
  readonly tenant: TenantName;
  /** A manifest checked by parseManifest. */
  readonly manifest: Manifest;
  readonly maxCommitBytes?: number;
  /** Called once per segment object downloaded and checked, with its size. */
  readonly onSegment?: (segment: ManifestSegment, bytes: number) => void;
}

/**
 * The read side of LogBackend over an archive: commits come from the segment
 * objects the manifest lists, each checked before any commit of it is released:
 * the object's size and BLAKE3 against the manifest, the segment header (tenant,
 * first sequence), every frame's CRC, each commit's sequence against its
 * position, and the first prev_hash, last hash and timestamps against the
 * manifest. The next segment downloads while the current one is consumed.
 * Wrapped in a TenantLog it also gets the chain and signature checks.
 *
 * `kind` is "file": the objects are the embedded log's segment format. Appends
 * and follows are refused (REM_ERR_READ_ONLY).
 */
export class ArchiveBackend implements LogBackend {
  readonly kind = "file" as const;
  readonly tenant: TenantName;
  readonly maxCommitBytes: number;
  readonly manifest: Manifest;
  /** The last commit any read returned (a verifier compares it with the manifest's signed head). */
  lastRead: RawCommit | null = null;
  readonly #store: ObjectStore;
  readonly #onSegment: ((segment: ManifestSegment, bytes: number) => void) | undefined;

  constructor(o: ArchiveBackendOptions) {
    this.tenant = o.tenant;
    this.manifest = o.manifest;
    this.maxCommitBytes = o.maxCommitBytes ?? DEFAULT_MAX_COMMIT_BYTES;
    this.#store = o.store;
    this.#onSegment = o.onSegment;
  }

  /** The object URL of a manifest key. */
  url(segment: ManifestSegment): string {
    return this.#store.url(objectKey(this.tenant, segment.key));
  }

  async last(): Promise<RawCommit | null> {
    const head = this.manifest.head;
    if (head === null) return null;
    let out: RawCommit | null = null;
    for await (const batch of this.read(head.seq as Seq, { until: head.seq as Seq })) out = batch[batch.length - 1] ?? out;
    return out;
  }

  append(): Promise<AppendAck> {
    return Promise.reject(new RemError("REM_ERR_READ_ONLY", `tenant ${this.tenant}: an archive is read-only`, { tenant: this.tenant }));
  }

  async *follow(): AsyncGenerator<RawCommit[]> {
    throw new RemError("REM_ERR_READ_ONLY", `tenant ${this.tenant}: an archive cannot be followed (it changes only when \`rem archive\` uploads)`, { tenant: this.tenant });
  }

  async close(): Promise<void> {
    // The store belongs to the caller.
  }

  async *read(from: Seq, options: ReadOptions = {}): AsyncGenerator<RawCommit[]> {
    if (!Number.isSafeInteger(from) || from < 1) throw new RemError("REM_ERR_INVALID_ARGUMENT", `read from ${from}: sequences start at 1`, { tenant: this.tenant });
    const headSeq = this.manifest.head?.seq ?? 0;
    const stop = Math.min(options.until ?? headSeq, headSeq);
    if (from > stop) return;
    const segs = this.manifest.segments;
    const first = segmentFor(this.manifest, from);
    if (first === undefined) throw new RemError("REM_ERR_NOT_FOUND", `tenant ${this.tenant}: no commit ${from} in the archive`, { tenant: this.tenant, seq: from });
    let i = segs.indexOf(first);
    let next: Promise<Uint8Array> | null = this.#fetch(segs[i]!);
    const pending = new Set<Promise<Uint8Array>>([next]);
    try {
      for (; i < segs.length && segs[i]!.first_seq <= stop; i++) {
        const seg = segs[i]!;
        const bytes = await next!;
        pending.delete(next!);
        // Prefetch the next object while this one is decoded and consumed.
        const following = segs[i + 1];
        next = following !== undefined && following.first_seq <= stop ? this.#fetch(following) : null;
        if (next !== null) pending.add(next);
        const commits = this.decodeSegment(seg, bytes);
        this.#onSegment?.(seg, bytes.length);
        const lo = Math.max(from, seg.first_seq) - seg.first_seq;
        const hi = Math.min(stop, seg.last_seq) - seg.first_seq + 1;
        for (let k = lo; k < hi; k += BATCH) {
          if (options.signal?.aborted) return;
          const batch = commits.slice(k, Math.min(hi, k + BATCH));
          this.lastRead = batch[batch.length - 1]!;
          yield batch;
        }
      }
    } finally {
      // A consumer that stopped early leaves a prefetch running: never let it reject unhandled.
      for (const p of pending) p.catch(() => undefined);
    }
  }

  /** Downloads a segment object and checks it against the manifest (size, BLAKE3). */
  async #fetch(seg: ManifestSegment): Promise<Uint8Array> {
    const where = this.url(seg);
    let bytes: Uint8Array;
    try {
      bytes = await this.#store.get(objectKey(this.tenant, seg.key));
    } catch (err) {
      if (isRemError(err, "REM_ERR_ARCHIVE_NOT_FOUND")) {
        throw new RemError("REM_ERR_ARCHIVE_NOT_FOUND", `segment object ${where} (commits ${seg.first_seq}-${seg.last_seq}) is missing`, {
          tenant: this.tenant,
          object: where,
          seq: seg.first_seq,
        }, { cause: err });
      }
      if (err instanceof RemError) {
        err.details.tenant = this.tenant;
        err.details.seq ??= seg.first_seq;
      }
      throw err;
    }
    if (bytes.length !== seg.bytes) {
      throw this.#corrupt(seg, seg.first_seq, `the object is ${bytes.length} bytes, the manifest says ${seg.bytes} (manifest/segment mismatch or a partial upload)`);
    }
    const digest = toHex(blake3(bytes));
    if (digest !== seg.blake3) throw this.#corrupt(seg, seg.first_seq, `BLAKE3 ${digest} does not match the manifest's ${seg.blake3} (the object was altered or replaced)`);
    return bytes;
  }

  /** Splits a checked segment object into its commits, checking header, frames and the manifest's chain summary. */
  decodeSegment(seg: ManifestSegment, bytes: Uint8Array): RawCommit[] {
    const where = this.url(seg);
    let header: { tenant: string; firstSeq: number };
    try {
      header = decodeSegmentHeader(bytes, where);
    } catch (err) {
      throw this.#corrupt(seg, seg.first_seq, (err as Error).message.replace(`segment ${where}: `, ""));
    }
    if (header.tenant !== this.tenant) throw this.#corrupt(seg, seg.first_seq, `the segment belongs to tenant ${header.tenant}`);
    if (header.firstSeq !== seg.first_seq) throw this.#corrupt(seg, seg.first_seq, `the segment starts at commit ${header.firstSeq}, the manifest says ${seg.first_seq}`);
    const out: RawCommit[] = [];
    let off = SEGMENT_HEADER;
    let seq = seg.first_seq;
    while (off < bytes.length) {
      const f = checkFrame(bytes, off, this.maxCommitBytes);
      if (f.kind !== "ok") throw this.#corrupt(seg, seq, `commit ${seq} at byte ${off} is damaged (${f.kind === "short" ? "truncated" : f.kind === "zero" ? "zero-filled" : "checksum mismatch"})`, off);
      if (f.commit.length < 24 || Number(new DataView(f.commit.buffer, f.commit.byteOffset + 8, 8).getBigUint64(0)) !== seq) {
        throw this.#corrupt(seg, seq, `the frame at byte ${off} does not hold commit ${seq}`, off);
      }
      if (seq > seg.last_seq) throw this.#corrupt(seg, seq, `the segment holds commits past ${seg.last_seq}, its manifest range`, off);
      out.push({ seq: seq as Seq, bytes: f.commit });
      seq++;
      off += f.length;
    }
    if (seq !== seg.last_seq + 1) throw this.#corrupt(seg, seq, `the segment ends after commit ${seq - 1}, the manifest says ${seg.last_seq}`);
    const firstC = parseCommit(out[0]!.bytes, seg.first_seq);
    const lastC = out.length === 1 ? firstC : parseCommit(out[out.length - 1]!.bytes, seg.last_seq);
    if (toHex(firstC.header.prevHash) !== seg.first_prev_hash) throw this.#corrupt(seg, seg.first_seq, `commit ${seg.first_seq}'s prev_hash does not match the manifest`);
    if (toHex(blake3(lastC.unsigned)) !== seg.last_hash) throw this.#corrupt(seg, seg.last_seq, `commit ${seg.last_seq}'s hash does not match the manifest`);
    if (firstC.header.ts !== seg.first_ts || lastC.header.ts !== seg.last_ts) throw this.#corrupt(seg, seg.first_seq, "the commit timestamps do not match the manifest");
    return out;
  }

  #corrupt(seg: ManifestSegment, seq: number, why: string, offset?: number): RemError {
    const where = this.url(seg);
    return new RemError("REM_ERR_ARCHIVE_CORRUPT", `tenant ${this.tenant}: segment object ${where}: ${why}`, {
      tenant: this.tenant,
      object: where,
      seq,
      ...(offset === undefined ? {} : { offset }),
    });
  }
}

/**
 * Names the archive object holding the failing commit in an error from a
 * TenantLog over an archive (chain, signature, key, decrypt errors carry only
 * the sequence).
 */
export function annotateArchiveError(err: unknown, backend: ArchiveBackend): unknown {
  if (!(err instanceof RemError) || err.details.object !== undefined) return err;
  const seq = err.details.seq;
  if (typeof seq !== "number") return err;
  const seg = segmentFor(backend.manifest, seq);
  if (seg === undefined) return err;
  const where = backend.url(seg);
  const e = new RemError(err.code, `${err.message} (in segment object ${where})`, { ...err.details, object: where }, { cause: err });
  return e;
}
