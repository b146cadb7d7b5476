import { PerformanceObserver, performance } from "node:perf_hooks";
import { median } from "./stats.js";

/**
 * What the process did during a timed section, to tell why a figure is what it
 * is: CPU-bound on the main thread (loopBusy near 1), waiting on I/O (lower),
 * or losing time to garbage collection.
 */
export interface Diagnostics {
  /** Share of the section the event loop was busy (0-1). */
  readonly loopBusy: number;
  /** Process CPU time (user + system, all threads: GC helpers, libuv pool) per second of wall time. */
  readonly cpuPerWallS: number;
  /** Time in garbage collection pauses (ms), as V8 reports them. */
  readonly gcMs: number;
}

/** Runs `fn` and reports its diagnostics. */
export async function withDiagnostics(fn: () => Promise<void>): Promise<{ ms: number; diag: Diagnostics }> {
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ["gc"] });
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    gc.disconnect();
  }
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return {
    ms,
    diag: { loopBusy: performance.eventLoopUtilization(elu).utilization, cpuPerWallS: (used.user + used.system) / 1000 / ms, gcMs },
  };
}

/** Medians of each field over repetitions. */
export function medianDiagnostics(samples: readonly Diagnostics[]): Diagnostics | undefined {
  if (samples.length === 0) return undefined;
  return {
    loopBusy: median(samples.map((d) => d.loopBusy)),
    cpuPerWallS: median(samples.map((d) => d.cpuPerWallS)),
    gcMs: median(samples.map((d) => d.gcMs)),
  };
}
