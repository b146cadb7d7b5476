import type { Rate } from "../lib/timing.js";

/** CPU one event cost during a measurement, from its median rate and median diagnostics. */
export interface CpuCost {
  /** µs of CPU per event in this process (every thread). */
  readonly processUs: number;
  /** µs of CPU per event in the nats-server; null when not measured (file log, no /proc). */
  readonly serverUs: number | null;
  /**
   * Events/s the machine's cores would allow if both processes' CPU spread
   * perfectly over all of them: cores × 1e6 / (process + server µs). No
   * scheduling reaches it; a figure whose target lies above it is bounded by
   * the machine, whatever the code's structure.
   */
  readonly coreBoundEventsPerS: number;
}

/** null when the rate carries no diagnostics. */
export function cpuCost(rate: Rate, cores: number): CpuCost | null {
  const d = rate.diag;
  if (d === undefined || rate.median <= 0) return null;
  const processUs = (d.cpuPerWallS * 1e6) / rate.median;
  const serverUs = d.peerCpuPerWallS === undefined ? null : (d.peerCpuPerWallS * 1e6) / rate.median;
  const round = (x: number): number => Number(x.toFixed(2));
  return { processUs: round(processUs), serverUs: serverUs === null ? null : round(serverUs), coreBoundEventsPerS: Math.round((cores * 1e6) / (processUs + (serverUs ?? 0))) };
}
