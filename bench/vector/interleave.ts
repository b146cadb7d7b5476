import { latencies, type LatencySummary } from "../lib/stats.js";
import { nowMs } from "../lib/timing.js";
import { recallAt } from "./ground-truth.js";

/** One way of answering query q: `run` is what is timed; `ids` turns its result into data set indexes afterwards. */
export interface Engine<R = unknown> {
  readonly name: string;
  run(q: number): R | Promise<R>;
  ids(result: R): number[];
}

export interface EngineFigures {
  readonly latency: LatencySummary;
  /** Mean recall@k over the timed queries. */
  readonly recall: number;
  /** Mean number of hits returned (k unless a filter starved the search). */
  readonly hits: number;
}

/**
 * Times every engine on the same queries, interleaved query by query (the
 * engine order rotates each query), so drift in the machine's speed hits all
 * engines alike. The first `warmup` queries run untimed first; then queries
 * 0 … count-1 are each timed once per engine and scored against `truth`.
 */
export async function interleave(engines: readonly Engine[], count: number, warmup: number, truth: Int32Array, k: number): Promise<Record<string, EngineFigures>> {
  for (let q = 0; q < Math.min(warmup, count); q++) for (const e of engines) await e.run(q);
  const samples = engines.map(() => new Array<number>(count));
  const recall = engines.map(() => 0);
  const hits = engines.map(() => 0);
  for (let q = 0; q < count; q++) {
    for (let s = 0; s < engines.length; s++) {
      const i = (q + s) % engines.length;
      const e = engines[i]!;
      const t0 = nowMs();
      let r = e.run(q);
      if (r instanceof Promise) r = await r;
      samples[i]![q] = nowMs() - t0;
      const got = e.ids(r);
      recall[i] = recall[i]! + recallAt(truth, k, q, got);
      hits[i] = hits[i]! + got.length;
    }
  }
  const out: Record<string, EngineFigures> = {};
  engines.forEach((e, i) => {
    out[e.name] = { latency: latencies(samples[i]!), recall: recall[i]! / count, hits: hits[i]! / count };
  });
  return out;
}
