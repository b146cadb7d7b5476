import type { Seq } from "../../events/model/ids.js";
import { ArchiveBackend } from "./archive-backend.js";
import type { Archiver } from "./archiver.js";
import { putSegment } from "./segment-object.js";
import { objectKey, type Manifest, type ManifestSegment } from "./manifest.js";

/** Follow mode merges a run of small segments once it has this many (levels grow 16x, so each commit is rewritten O(log n) times). */
export const FOLLOW_COMPACT_SEGMENTS = 16;
/** How long a replaced segment object stays in the bucket: a restore that read the previous manifest can still finish. */
export const DEFAULT_RETIRE_GRACE_MS = 15 * 60_000;

export interface CompactOptions {
  /** Target size of a merged segment; a segment of at least half this size is never merged (default: the archiver's 64 MiB). */
  readonly segmentBytes: number;
  /** Merge a run of consecutive small segments only when it has at least this many (default 2). */
  readonly minSegments?: number;
  /** Retired objects are deleted this long after a compaction replaced them (default 15 min). */
  readonly graceMs?: number;
  readonly now?: () => number;
  /** Called after each merged object and the manifest that lists it are uploaded. */
  readonly onMerge?: (e: MergeEvent) => void;
}

export interface MergeEvent {
  readonly object: string;
  readonly first_seq: number;
  readonly last_seq: number;
  /** How many segment objects it replaces. */
  readonly replaced: number;
  readonly bytes: number;
}

export interface CompactSummary {
  readonly segments_before: number;
  readonly segments_after: number;
  readonly merged: number;
  readonly retired: number;
  readonly deleted: number;
}

/**
 * Merges runs of small consecutive segment objects (follow mode uploads one
 * every few seconds) into segments of up to `segmentBytes`, so a restore reads
 * a few large objects instead of thousands of small ones. Crash-safe like
 * every archive write: the merged object is uploaded (and checked immutable)
 * before the manifest that lists it in place of the run; the replaced objects
 * are only retired in that manifest and deleted by a later compaction once the
 * grace period has passed. The merged bytes come from the archive's own
 * objects, checked against the manifest (size, BLAKE3, frames, chain summary)
 * as any read is, and are copied verbatim: the commits, their hashes and
 * signatures do not change.
 */
export async function compactArchive(archiver: Archiver, o: CompactOptions): Promise<CompactSummary> {
  const now = o.now ?? Date.now;
  const grace = o.graceMs ?? DEFAULT_RETIRE_GRACE_MS;
  const tenant = archiver.log.tenant;
  const store = archiver.store;
  const before = archiver.manifest.segments.length;
  let deleted = 0;
  let retired = 0;
  let merged = 0;

  // 1. Delete retired objects whose grace period has passed, then stop listing them.
  const listed = new Set(archiver.manifest.segments.map((s) => s.key));
  const due = (archiver.manifest.retired ?? []).filter((r) => Date.parse(r.retired_at) + grace <= now() && !listed.has(r.key));
  if (due.length > 0) {
    // Deleting first: a crash before the manifest leaves entries for missing objects, which the next run deletes again harmlessly.
    await store.delete(due.map((r) => objectKey(tenant, r.key)));
    const gone = new Set(due.map((r) => r.key));
    const m = archiver.manifest;
    await archiver.writeManifest(withRetired(m, (m.retired ?? []).filter((r) => !gone.has(r.key))));
    deleted = due.length;
  }

  // 2. Merge runs, one manifest per run so progress survives a crash.
  for (const run of planRuns(archiver.manifest.segments, o.segmentBytes, o.minSegments ?? 2)) {
    const m = archiver.manifest;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const backend = new ArchiveBackend({ store, tenant, manifest: m });
    const commits: Uint8Array[] = [];
    for await (const batch of backend.read(first.first_seq as Seq, { until: last.last_seq as Seq })) for (const c of batch) commits.push(c.bytes);
    const { entry, key, bytes } = await putSegment(store, tenant, commits, {
      first_seq: first.first_seq,
      last_seq: last.last_seq,
      first_prev_hash: first.first_prev_hash,
      last_hash: last.last_hash,
      first_ts: first.first_ts,
      last_ts: last.last_ts,
    });
    const at = m.segments.indexOf(first);
    const segments = [...m.segments.slice(0, at), entry, ...m.segments.slice(at + run.length)];
    const stamp = new Date(now()).toISOString();
    const next = withRetired({ ...m, segments }, [...(m.retired ?? []), ...run.map((s) => ({ key: s.key, retired_at: stamp }))]);
    await archiver.writeManifest(next);
    merged++;
    retired += run.length;
    o.onMerge?.({ object: store.url(key), first_seq: entry.first_seq, last_seq: entry.last_seq, replaced: run.length, bytes });
  }
  return { segments_before: before, segments_after: archiver.manifest.segments.length, merged, retired, deleted };
}

/**
 * Runs of consecutive small segments (each under half of `segmentBytes`) whose
 * merged size stays within `segmentBytes`, of at least `minSegments`.
 */
export function planRuns(segments: readonly ManifestSegment[], segmentBytes: number, minSegments: number): ManifestSegment[][] {
  const runs: ManifestSegment[][] = [];
  let run: ManifestSegment[] = [];
  let size = 0;
  const close = () => {
    if (run.length >= Math.max(2, minSegments)) runs.push(run);
    run = [];
    size = 0;
  };
  for (const s of segments) {
    if (s.bytes >= segmentBytes / 2) {
      close();
      continue;
    }
    // Each merged object keeps one segment header: the payload is the frames.
    if (run.length > 0 && size + s.bytes > segmentBytes) close();
    run.push(s);
    size += s.bytes;
  }
  close();
  return runs;
}

function withRetired(m: Manifest, retired: NonNullable<Manifest["retired"]>): Manifest {
  const { retired: _old, ...rest } = m;
  return { ...rest, updated_at: new Date().toISOString(), ...(retired.length > 0 ? { retired } : {}) };
}
