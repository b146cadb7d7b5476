import { isRemError } from "../errors.js";
import type { Event } from "../../events/model/events.js";
import type { Seq } from "../../events/model/ids.js";
import type { AppendResult, TenantLog } from "../../events/log/tenant-log.js";

export interface AppendCommitsOptions {
  /** Events per commit (each commit is atomic); a commit over the size limit is split in two. */
  readonly perCommit: number;
  /** Optimistic concurrency for the first commit; later ones must extend the previous. */
  readonly expectedSeq?: Seq | undefined;
  /** Commits in flight at once (they are pipelined on the hash chain). Default 32. */
  readonly inFlight?: number;
  readonly onCommit?: (events: number) => void;
}

/**
 * Appends events as a series of commits, in order. Without `expectedSeq` the
 * commits are pipelined; the first failure stops issuing new ones and is thrown
 * after those in flight settle (commits already acknowledged stay: each commit
 * is atomic, a series is not).
 */
export async function appendCommits(log: TenantLog, events: readonly Event[], o: AppendCommitsOptions): Promise<AppendResult[]> {
  const chunks: Event[][] = [];
  for (let i = 0; i < events.length; i += o.perCommit) chunks.push(events.slice(i, i + o.perCommit));
  const results: AppendResult[] = [];
  if (o.expectedSeq !== undefined) {
    let expected = o.expectedSeq;
    for (const chunk of chunks) {
      for (const r of await appendSplitting(log, chunk, expected)) {
        results.push(r);
        expected = r.seq;
      }
      o.onCommit?.(chunk.length);
    }
    return results;
  }
  const slots: AppendResult[][] = new Array(chunks.length);
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  for (let i = 0; i < chunks.length && failure === undefined; i++) {
    const chunk = chunks[i]!;
    const p: Promise<void> = appendSplitting(log, chunk, undefined).then(
      (r) => {
        slots[i] = r;
        o.onCommit?.(chunk.length);
      },
      (err: unknown) => void (failure ??= err),
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= (o.inFlight ?? 32)) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  if (failure !== undefined) throw failure;
  for (const r of slots) results.push(...r);
  return results;
}

/** One commit, or two halves (recursively) when it is over the size limit. */
async function appendSplitting(log: TenantLog, events: Event[], expectedSeq: Seq | undefined): Promise<AppendResult[]> {
  try {
    return [await log.append(events, { expectedSeq })];
  } catch (err) {
    if (!isRemError(err, "REM_ERR_COMMIT_TOO_LARGE") || events.length < 2) throw err;
    const half = Math.ceil(events.length / 2);
    const first = await appendSplitting(log, events.slice(0, half), expectedSeq);
    const second = await appendSplitting(log, events.slice(half), expectedSeq === undefined ? undefined : first[first.length - 1]!.seq);
    return [...first, ...second];
  }
}
