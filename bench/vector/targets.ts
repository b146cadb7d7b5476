import { atLeast, atMost, round, type Target } from "../lib/report.js";
import type { PeerComparison } from "./lance-peer.js";
import { RECALL_TOLERANCE } from "./lance-peer.js";

/** A fraction (recall) that must reach `target`, kept to 4 decimals (report.ts's atLeast rounds to integers). */
export function recallAtLeast(value: number, target: number): Target {
  const v = round(value, 4);
  return { value: v, target, pass: Number.isFinite(v) && v >= target, unit: "recall@10" };
}

export function flag(ok: boolean): Target {
  return { value: ok ? 1 : 0, target: 1, pass: ok, unit: "bool" };
}

/** REM at least `times` faster than the peer, at equal (within the tolerance) or better recall. */
export function peerTarget(c: PeerComparison | undefined, times: number): Target & { remRecall: number | null; lanceRecall: number | null } {
  if (c === undefined) return { ...atLeast(Number.NaN, times, "x"), pass: false, remRecall: null, lanceRecall: null };
  const t = atLeast(c.remSpeedup, times, "x");
  const recallOk = c.rem.recall >= c.lance.recall - RECALL_TOLERANCE;
  return { ...t, pass: t.pass && recallOk, remRecall: round(c.rem.recall, 4), lanceRecall: round(c.lance.recall, 4) };
}

export { atLeast, atMost };
