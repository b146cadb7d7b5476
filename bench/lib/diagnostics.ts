import { PerformanceObserver, performance } from "node:perf_hooks";
import { median } from "./stats.js";
import { processCpuUs } from "./thread-cpu.js";

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
  /**
   * CPU time of the peer process (the bench's nats-server) per second of wall
   * time, when one is set (setDiagnosticsPeer) and /proc can be read. With
   * cpuPerWallS it shows how much of the machine's cores the run kept busy.
   */
  readonly peerCpuPerWallS?: number;
}

let peerPid: (() => number | null) | null = null;

/** Names the process whose CPU every later measurement also reports (null: none). */
export function setDiagnosticsPeer(pid: (() => number | null) | null): void {
  peerPid = pid;
}

function peerCpuUs(): number | null {
  const pid = peerPid?.() ?? null;
  return pid === null ? null : processCpuUs(pid);
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
  const peer0 = peerCpuUs();
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    gc.disconnect();
  }
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  const peer1 = peerCpuUs();
  const diag: Diagnostics = { loopBusy: performance.eventLoopUtilization(elu).utilization, cpuPerWallS: (used.user + used.system) / 1000 / ms, gcMs };
  // /proc counts in 10 ms ticks: a short section's figure is coarse, and its median over repetitions is what is reported.
  return { ms, diag: peer0 === null || peer1 === null ? diag : { ...diag, peerCpuPerWallS: (peer1 - peer0) / 1000 / ms } };
}

/** Medians of each field over repetitions. */
export function medianDiagnostics(samples: readonly Diagnostics[]): Diagnostics | undefined {
  if (samples.length === 0) return undefined;
  const peer = samples.flatMap((d) => (d.peerCpuPerWallS === undefined ? [] : [d.peerCpuPerWallS]));
  return {
    loopBusy: median(samples.map((d) => d.loopBusy)),
    cpuPerWallS: median(samples.map((d) => d.cpuPerWallS)),
    gcMs: median(samples.map((d) => d.gcMs)),
    ...(peer.length === samples.length ? { peerCpuPerWallS: median(peer) } : {}),
  };
}
