import { formatRate, progress } from "../lib/report.js";
import { medianDiagnostics, type Diagnostics } from "../lib/diagnostics.js";
import { summarize } from "../lib/stats.js";
import type { Rate, RunSample } from "../lib/timing.js";

/**
 * One measurement. `rep` is 0, 1, … for the measured repetitions and
 * WARMUP for the discarded warm-up run (it must not reuse rep 0's resources).
 */
export type Variant = (rep: number) => Promise<RunSample>;

/** The rep number of the warm-up run; variants typically name streams, dirs, tenants after the rep. */
export const WARMUP = 99;

/**
 * Runs every variant once as a discarded warm-up (JIT, server caches, pools),
 * then once per repetition, round-robin (rep 0: A B C, rep 1: A B C…), so a
 * figure and its baseline are measured close together in time and slow drift
 * (page cache, heap growth, server state) affects both alike.
 */
export async function interleaved<K extends string>(label: string, reps: number, variants: Record<K, Variant>, unit = "events/s"): Promise<Record<K, Rate>> {
  const keys = Object.keys(variants) as K[];
  for (const k of keys) {
    const s = await variants[k](WARMUP);
    progress(`${label} ${k} warm-up: ${formatRate((s.items * 1000) / s.ms)} ${unit} (discarded)`);
  }
  const perSec = new Map<K, number[]>(keys.map((k) => [k, []]));
  const diags = new Map<K, Diagnostics[]>(keys.map((k) => [k, []]));
  const items = new Map<K, number>();
  for (let rep = 0; rep < reps; rep++) {
    for (const k of keys) {
      const s = await variants[k](rep);
      const r = (s.items * 1000) / s.ms;
      perSec.get(k)!.push(r);
      if (s.diag !== undefined) diags.get(k)!.push(s.diag);
      items.set(k, s.items);
      const d = s.diag;
      const peer = d?.peerCpuPerWallS === undefined ? "" : `, nats-server CPU ${d.peerCpuPerWallS.toFixed(2)} s/s`;
      const loop = d === undefined ? "" : `; event loop ${(d.loopBusy * 100).toFixed(0)}% busy, CPU ${d.cpuPerWallS.toFixed(2)} s/s${peer}, GC ${d.gcMs.toFixed(0)} ms`;
      progress(`${label} ${k} rep ${rep + 1}/${reps}: ${formatRate(r)} ${unit} (${s.items} in ${s.ms.toFixed(0)} ms${loop})`);
    }
  }
  const out = {} as Record<K, Rate>;
  for (const k of keys) {
    const diag = medianDiagnostics(diags.get(k)!);
    out[k] = { unit, itemsPerRun: items.get(k) ?? 0, ...summarize(perSec.get(k)!), ...(diag === undefined ? {} : { diag }) };
  }
  return out;
}
