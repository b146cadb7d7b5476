import { performance } from "node:perf_hooks";
import { withDiagnostics, type Diagnostics } from "./diagnostics.js";
import { summarize, type Summary } from "./stats.js";

/** Monotonic milliseconds (sub-millisecond resolution). */
export function nowMs(): number {
  return performance.now();
}

/** Monotonic milliseconds on the process's clock, the same in every thread (performance.now() starts anew in each worker). */
export function hrtimeMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** One timed run: how many items the timed part handled and how long it took. */
export interface RunSample {
  readonly items: number;
  readonly ms: number;
  /** What the process did meanwhile, when measured (see diagnostics.ts). */
  readonly diag?: Diagnostics;
}

/** Times `fn` with diagnostics; `items` is read once it is done. */
export async function measure(items: () => number, fn: () => Promise<void>): Promise<RunSample> {
  const { ms, diag } = await withDiagnostics(fn);
  return { items: items(), ms, diag };
}

/** A throughput over repeated runs: the median is the figure, the samples show the spread. */
export interface Rate extends Summary {
  readonly unit: string;
  /** Items per run (events, signatures, bytes…): what each sample counted. */
  readonly itemsPerRun: number;
  /** Medians of the runs' diagnostics, when measured. */
  readonly diag?: Diagnostics;
}

/**
 * Runs `run` `reps` times and reports items/s. Each run does its own setup and
 * teardown outside the part it times, so only the operation itself is measured.
 */
export async function repeatRate(reps: number, run: (rep: number) => Promise<RunSample>, unit = "events/s", onSample?: (rep: number, perSec: number) => void): Promise<Rate> {
  const perSec: number[] = [];
  let items = 0;
  for (let rep = 0; rep < reps; rep++) {
    const s = await run(rep);
    if (s.ms <= 0) throw new Error(`run ${rep} took no measurable time`);
    const r = (s.items * 1000) / s.ms;
    perSec.push(r);
    items = s.items;
    onSample?.(rep, r);
  }
  return { unit, itemsPerRun: items, ...summarize(perSec) };
}

/**
 * Calls a synchronous `op` (which handles `itemsPerCall` items) repeatedly for at
 * least `minMs`, for micro-benchmarks where one call is far below timer resolution.
 */
export function loopFor(minMs: number, itemsPerCall: number, op: (i: number) => void): RunSample {
  const t0 = nowMs();
  let calls = 0;
  let elapsed = 0;
  // Check the clock every few calls only: reading it is not free next to a fast op.
  do {
    for (let k = 0; k < 16; k++) op(calls++);
    elapsed = nowMs() - t0;
  } while (elapsed < minMs);
  return { items: calls * itemsPerCall, ms: elapsed };
}
