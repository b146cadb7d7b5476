import { RemError, isRemError } from "../../src/errors.js";
import type { ChainPosition, VerifiedCommit } from "../../events/chain-verifier.js";
import { fromHex, toHex } from "../../events/hash.js";
import type { Seq } from "../../events/model/ids.js";
import type { TenantLog } from "../../events/log/tenant-log.js";
import { emptyManifest, encodeManifest, headOf, manifestKey, readManifest, tenantPrefix, type Manifest } from "./manifest.js";
import type { ObjectStore } from "./object-store.js";
import { segmentSize } from "./segment-writer.js";
import { putSegment } from "./segment-object.js";
import { compactArchive, FOLLOW_COMPACT_SEGMENTS, type CompactOptions, type CompactSummary, type MergeEvent } from "./compact.js";

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_DELAY_MS = 10_000;

export interface ArchiveOptions {
  /** Cut a segment once it reaches this size (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Archive no further than this commit (default: the head when the run starts). */
  readonly until?: Seq;
  readonly signal?: AbortSignal;
  /** Called after each segment object and the manifest that lists it are uploaded. */
  readonly onUpload?: (event: UploadEvent) => void;
}

export interface FollowArchiveOptions extends ArchiveOptions {
  readonly signal: AbortSignal;
  /** Upload what has arrived at most this long after its first commit (default 10 s). */
  readonly maxDelayMs?: number;
  /**
   * Merge small segments as they accumulate (default true): once a run of
   * FOLLOW_COMPACT_SEGMENTS small segments exists it becomes one object, and
   * replaced objects are deleted after the grace period (compact.ts).
   */
  readonly compact?: boolean;
  /** Grace period before replaced objects are deleted (default 15 min). */
  readonly retireGraceMs?: number;
  /** Called after each merge. */
  readonly onMerge?: (e: MergeEvent) => void;
  /** A transient upload failure (store unreachable after the retries) is reported here and retried later instead of ending the run. */
  readonly onError?: (err: RemError) => void;
}

export interface UploadEvent {
  readonly tenant: string;
  readonly object: string;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly commits: number;
  readonly bytes: number;
  /** false when an identical object was already there (a run that stopped before its manifest). */
  readonly uploaded: boolean;
  readonly head_seq: number;
}

export interface ArchiveSummary {
  readonly tenant: string;
  readonly archive: string;
  readonly manifest: string;
  /** Where the archive stood before this run (0: empty). */
  readonly previous_head_seq: number;
  readonly head_seq: number;
  readonly head_hash: string | null;
  readonly segments_uploaded: number;
  readonly commits: number;
  readonly bytes: number;
  readonly segments_total: number;
  readonly seconds: number;
}

interface Buffered {
  readonly commits: VerifiedCommit[];
  bytes: number;
  /** When the first buffered commit arrived (follow mode's delay bound). */
  since: number;
}

/**
 * Uploads a tenant's log to an archive as immutable segment objects plus a
 * manifest. The order makes every state of the bucket consistent: a segment
 * object is uploaded (and its BLAKE3 recorded) before the manifest that lists
 * it, and the manifest is the only object ever replaced. A crash or an S3
 * failure at any point leaves the previous manifest, which lists only complete
 * objects; the next run resumes from its head.
 *
 * One archiver per tenant and archive: the manifest's ETag is checked before
 * each replacement, so a second archiver is detected (REM_ERR_ARCHIVE_CONFLICT)
 * rather than silently interleaved (S3 has no compare-and-swap everywhere, so
 * this narrows the race; it does not close it).
 */
export class Archiver {
  readonly log: TenantLog;
  readonly store: ObjectStore;
  #manifest: Manifest;
  #etag: string | undefined;
  /** The last manifest this run tried to write (see #ownLostWrite). */
  #attempt: Manifest | null = null;
  readonly #previousHead: number;

  private constructor(log: TenantLog, store: ObjectStore, manifest: Manifest, etag: string | undefined) {
    this.log = log;
    this.store = store;
    this.#manifest = manifest;
    this.#etag = etag;
    this.#previousHead = manifest.head?.seq ?? 0;
  }

  /**
   * Reads the archive's manifest (if any) and checks that the local log extends
   * the archived chain: the local commit at the archived head must have exactly
   * the archived hash.
   */
  static async open(log: TenantLog, store: ObjectStore): Promise<Archiver> {
    const found = await readManifest(store, log.tenant);
    const manifest = found?.manifest ?? emptyManifest(log.tenant);
    const head = manifest.head;
    if (head !== null) {
      let local: VerifiedCommit | null = null;
      try {
        for await (const batch of log.read(head.seq as Seq, { until: head.seq as Seq, after: null })) local = batch[batch.length - 1] ?? local;
      } catch (err) {
        if (!isRemError(err, "REM_ERR_NOT_FOUND")) throw err;
      }
      const where = store.url(manifestKey(log.tenant));
      if (local === null || local.seq !== head.seq) {
        const localHead = (await log.head()).seq;
        throw new RemError(
          "REM_ERR_ARCHIVE_CONFLICT",
          `tenant ${log.tenant}: the archive at ${store.url(tenantPrefix(log.tenant))} reaches commit ${head.seq} but this log ends at ${localHead}: it is not an archive of this log (archive elsewhere, or restore from it)`,
          { tenant: log.tenant, object: where, seq: head.seq, expectedSeq: head.seq, actualSeq: localHead },
        );
      }
      if (toHex(local.hash) !== head.hash) {
        throw new RemError(
          "REM_ERR_ARCHIVE_CONFLICT",
          `tenant ${log.tenant}: commit ${head.seq} of this log differs from the archived one (hash ${toHex(local.hash)} vs ${head.hash}): this log does not extend the archived chain`,
          { tenant: log.tenant, object: where, seq: head.seq },
        );
      }
    }
    return new Archiver(log, store, manifest, found?.etag);
  }

  get manifest(): Manifest {
    return this.#manifest;
  }

  /** Archives every commit after the archived head, up to the log's head (or `until`). */
  async archive(options: ArchiveOptions = {}): Promise<ArchiveSummary> {
    const started = performance.now();
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    let uploaded = 0;
    let commits = 0;
    let bytes = 0;
    let buf: Buffered | null = null;
    const flush = async () => {
      if (buf === null) return;
      const b: Buffered = buf;
      buf = null;
      const r = await this.#upload(b.commits, options.onUpload);
      if (r.uploaded) uploaded++;
      commits += b.commits.length;
      bytes += r.bytes;
    };
    for await (const batch of this.log.read(this.#nextSeq(), { after: this.#position(), until: options.until, signal: options.signal })) {
      for (const c of batch) {
        buf ??= { commits: [], bytes: 0, since: Date.now() };
        buf.commits.push(c);
        buf.bytes += c.parsed.bytes.length;
        if (segmentSize(buf.bytes, buf.commits.length) >= segmentBytes) await flush();
      }
    }
    await flush();
    return this.#summary(started, uploaded, commits, bytes);
  }

  /**
   * Keeps archiving as commits arrive until `signal` aborts: a segment is cut
   * when it reaches the segment size, or `maxDelayMs` after its first commit
   * arrived, whichever comes first. On abort, what is buffered is uploaded
   * before returning.
   */
  async follow(options: FollowArchiveOptions): Promise<ArchiveSummary> {
    const started = performance.now();
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const maxDelay = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    const { signal } = options;
    let uploaded = 0;
    let commits = 0;
    let bytes = 0;
    let failures = 0;
    let retryAt = 0;
    const queue: VerifiedCommit[] = [];
    let queueBytes = 0;
    let since = 0;
    /** Uploads queued commits as segments of at most segmentBytes; false when a transient failure left some queued. */
    const flush = async (): Promise<boolean> => {
      while (queue.length > 0) {
        let n = 0;
        let size = 0;
        while (n < queue.length && (n === 0 || segmentSize(size + queue[n]!.parsed.bytes.length, n + 1) <= segmentBytes)) size += queue[n++]!.parsed.bytes.length;
        try {
          const r = await this.#upload(queue.slice(0, n), options.onUpload);
          if (r.uploaded) uploaded++;
          bytes += r.bytes;
        } catch (err) {
          if (!isRemError(err, "REM_ERR_ARCHIVE_UNAVAILABLE") || options.onError === undefined) throw err;
          options.onError(err);
          failures++;
          retryAt = Date.now() + Math.min(60_000, 1_000 * 2 ** Math.min(failures, 6));
          return false;
        }
        failures = 0;
        queue.splice(0, n);
        queueBytes -= size;
        commits += n;
        since = Date.now();
      }
      if (options.compact !== false) {
        try {
          await this.compact({ segmentBytes, minSegments: FOLLOW_COMPACT_SEGMENTS, graceMs: options.retireGraceMs, onMerge: options.onMerge });
        } catch (err) {
          // Compaction only tidies: the commits are archived. A transient failure is retried after the next upload.
          if (!isRemError(err, "REM_ERR_ARCHIVE_UNAVAILABLE") || options.onError === undefined) throw err;
          options.onError(err);
        }
      }
      return true;
    };
    const it = this.log.follow(this.#nextSeq(), { after: this.#position(), signal })[Symbol.asyncIterator]();
    let next = it.next();
    try {
      for (;;) {
        const now = Date.now();
        const due = queue.length === 0 ? Infinity : Math.max(since + maxDelay, retryAt);
        let timer: NodeJS.Timeout | undefined;
        const tick = due === Infinity ? null : new Promise<"tick">((resolve) => (timer = setTimeout(() => resolve("tick"), Math.max(0, due - now))));
        const r = await (tick === null ? next : Promise.race([next, tick]));
        if (timer !== undefined) clearTimeout(timer);
        if (r === "tick") {
          await flush();
          continue;
        }
        if (r.done === true) break;
        next = it.next();
        if (queue.length === 0) since = Date.now();
        for (const c of r.value) {
          queue.push(c);
          queueBytes += c.parsed.bytes.length;
        }
        if (segmentSize(queueBytes, queue.length) >= segmentBytes && Date.now() >= retryAt) await flush();
      }
    } finally {
      void next.catch(() => undefined);
    }
    // Stopped: upload what arrived (one last try; a failure now is the caller's to report).
    if (queue.length > 0) {
      const ok = await flush();
      if (!ok) throw new RemError("REM_ERR_ARCHIVE_UNAVAILABLE", `tenant ${this.log.tenant}: stopped with commits ${queue[0]!.seq}-${queue[queue.length - 1]!.seq} not archived (the store is unreachable); the next run archives them`, { tenant: this.log.tenant, seq: queue[0]!.seq });
    }
    return this.#summary(started, uploaded, commits, bytes);
  }

  /** Merges runs of small segments into larger objects (compact.ts). */
  compact(options: CompactOptions): Promise<CompactSummary> {
    return compactArchive(this, options);
  }

  /**
   * Replaces the manifest with `next` (which must hold the same chain of
   * commits, possibly in fewer objects, or extend it). Checks first that
   * nobody else replaced it since we read or wrote it.
   */
  async writeManifest(next: Manifest): Promise<void> {
    const key = manifestKey(this.log.tenant);
    const current = await this.store.head(key);
    if (current?.etag !== this.#etag && !(await this.#ownLostWrite(current?.etag))) {
      throw new RemError(
        "REM_ERR_ARCHIVE_CONFLICT",
        `tenant ${this.log.tenant}: ${this.store.url(key)} was replaced by someone else since this run read it (is another \`rem archive\` running for this tenant?)`,
        { tenant: this.log.tenant, object: this.store.url(key) },
      );
    }
    this.#attempt = next;
    const { etag } = await this.store.put(key, encodeManifest(next), { contentType: "application/json" });
    // Some stores answer a PUT without an ETag: fall back to asking.
    this.#etag = etag ?? (await this.store.head(key))?.etag;
    this.#manifest = next;
  }

  /**
   * Whether the manifest found (ETag `etag`) is one this run tried to write and
   * was told failed (an upload that landed but whose answer was lost): then it
   * is ours to replace.
   */
  async #ownLostWrite(etag: string | undefined): Promise<boolean> {
    const tried = this.#attempt;
    if (tried === null || etag === undefined) return false;
    const found = await readManifest(this.store, this.log.tenant);
    if (found === null) return false;
    const same = (m: Manifest) => JSON.stringify({ ...m, updated_at: "" });
    if (same(found.manifest) !== same(tried)) return false;
    this.#etag = found.etag;
    return true;
  }

  #nextSeq(): Seq {
    return ((this.#manifest.head?.seq ?? 0) + 1) as Seq;
  }

  #position(): ChainPosition {
    const h = this.#manifest.head;
    return h === null ? { seq: 0, hash: new Uint8Array(32), ts: 0 } : { seq: h.seq, hash: fromHex(h.hash), ts: h.ts };
  }

  /** Uploads one segment object (unless an identical one is there), then the manifest listing it. */
  async #upload(commits: readonly VerifiedCommit[], onUpload: ((e: UploadEvent) => void) | undefined): Promise<{ uploaded: boolean; bytes: number }> {
    const first = commits[0]!;
    const last = commits[commits.length - 1]!;
    const tenant = this.log.tenant;
    const { entry, key, bytes, uploaded } = await putSegment(this.store, tenant, commits.map((c) => c.parsed.bytes), {
      first_seq: first.seq,
      last_seq: last.seq,
      first_prev_hash: toHex(first.parsed.header.prevHash),
      last_hash: toHex(last.hash),
      first_ts: first.ts,
      last_ts: last.ts,
    });
    const m = this.#manifest;
    const encrypted = m.segments.length === 0 ? first.encrypted : m.encrypted;
    await this.writeManifest({ ...m, encrypted, updated_at: new Date().toISOString(), segments: [...m.segments, entry], head: headOf({ ...last, signature: last.parsed.signature }) });
    onUpload?.({ tenant, object: this.store.url(key), first_seq: first.seq, last_seq: last.seq, commits: commits.length, bytes, uploaded, head_seq: last.seq });
    return { uploaded, bytes };
  }

  #summary(started: number, uploaded: number, commits: number, bytes: number): ArchiveSummary {
    const m = this.#manifest;
    return {
      tenant: this.log.tenant,
      archive: this.store.url(tenantPrefix(this.log.tenant)),
      manifest: this.store.url(manifestKey(this.log.tenant)),
      previous_head_seq: this.#previousHead,
      head_seq: m.head?.seq ?? 0,
      head_hash: m.head?.hash ?? null,
      segments_uploaded: uploaded,
      commits,
      bytes,
      segments_total: m.segments.length,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
  }
}
