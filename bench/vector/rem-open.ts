import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Tenant } from "../../src/node/tenant.js";
import { nowMs } from "../lib/timing.js";

export interface OpenFigure {
  /** Wall time of `await tenant.vectors()`. */
  readonly wallS: number;
  /** VectorIndexSet.openStats: where the indexes came from and its own timing. */
  readonly source: "snapshot" | "rebuild";
  readonly statsS: number;
  readonly tail: number;
  readonly vectors: number;
}

/** Times the first `tenant.vectors()` of an opened tenant: a snapshot load, or a build from the stored vectors. */
export async function timeVectorsOpen(t: Tenant): Promise<OpenFigure> {
  const t0 = nowMs();
  const set = await t.vectors();
  const wallS = (nowMs() - t0) / 1000;
  const s = set.openStats;
  return { wallS, source: s.source, statsS: s.seconds, tail: s.tail, vectors: set.stats().reduce((n, i) => n + i.vectors, 0) };
}

/** Waits for the posting lists of filtered search (built in the background after the indexes open): seconds, and their size. */
export async function timePostings(t: Tenant): Promise<{ seconds: number; lists: number; entries: number }> {
  const t0 = nowMs();
  const set = await t.vectors();
  await set.postings.idle();
  const { lists, entries } = set.postings.stats();
  return { seconds: (nowMs() - t0) / 1000, lists, entries };
}

/** Bytes under a directory (the snapshot's size on disk). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return total;
}
