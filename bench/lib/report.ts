import { nowMs } from "./timing.js";

/** A goal for one figure, as it appears in the results JSON. */
export interface Target {
  readonly value: number;
  readonly target: number;
  readonly pass: boolean;
  /** "events/s" or "x" (a ratio). */
  readonly unit: string;
}

/** value must reach target (both figures rounded the same way as in the output). */
export function atLeast(value: number, target: number, unit: string): Target {
  const v = unit === "x" ? round(value, 3) : Math.round(value);
  return { value: v, target, pass: Number.isFinite(v) && v >= target, unit };
}

/** value must stay at or below target (latencies). */
export function atMost(value: number, target: number, unit: string): Target {
  const v = round(value, 3);
  return { value: v, target, pass: Number.isFinite(v) && v <= target, unit };
}

/** a / b as a ratio rounded to 3 decimals; NaN (→ null in JSON) when either is missing. */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) && Number.isFinite(b) ? round(a / b, 3) : Number.NaN;
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const started = nowMs();

/** Progress goes to stderr, so stdout carries only the results line. */
export function progress(message: string): void {
  const t = ((nowMs() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${message}\n`);
}

export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return "n/a";
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}k`;
  return perSec.toFixed(0);
}

/**
 * JSON with numbers made readable: rates rounded to integers, small numbers to
 * 3 decimals; NaN and Infinity become null (JSON has no such numbers).
 */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== "number") return v;
    if (!Number.isFinite(v)) return null;
    return Math.abs(v) >= 100 ? Math.round(v) : round(v, 3);
  });
}
