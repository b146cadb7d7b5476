import { setTimeout as sleep } from "node:timers/promises";
import { nowMs } from "../lib/timing.js";

/**
 * Starts `op(i)` at `rate` per second for `seconds`, without waiting for earlier
 * ones (an open-loop load: a slow consumer cannot slow the writer down and hide
 * its own lag). Returns once every op has settled; the first error is rethrown.
 */
export async function paced(rate: number, seconds: number, op: (i: number) => Promise<void>): Promise<{ issued: number; seconds: number }> {
  const total = Math.round(rate * seconds);
  const started = nowMs();
  const running: Promise<void>[] = [];
  let failed: unknown = null;
  for (let i = 0; i < total && failed === null; ) {
    const due = Math.min(total, Math.floor(((nowMs() - started) / 1000) * rate) + 1);
    for (; i < due; i++) running.push(op(i).catch((err: unknown) => void (failed ??= err)));
    if (i < total) await sleep(1);
  }
  await Promise.all(running);
  if (failed !== null) throw failed;
  return { issued: total, seconds: (nowMs() - started) / 1000 };
}
