import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Config from "./config.js";
import type * as LocalEmbed from "./local-embed.js";
import type * as RemTenant from "./rem-tenant.js";

/**
 * A/B of two builds' 1,000-document insert with the tenant's vectors loaded,
 * the suite's `insert1000` as the full run does it (30 batches back to back),
 * without the hour-long 1M build the suite puts before it: the insert goes to
 * its own schema's index either way. Builds run one after the other, each on a
 * fresh tenant; it also reports the graph backlog left and one search's time with it.
 *
 *   node dist/bench/vector/ab-insert.js <distA> <distB> [reps=30]
 *
 * <distX> is the root of a build (a checkout's `dist`, or a copy of it inside the checkout).
 */
async function run(root: string, reps: number): Promise<Record<string, unknown>> {
  const at = (path: string): string => pathToFileURL(resolve(root, path)).href;
  const { createBenchTenant } = (await import(at("bench/vector/rem-tenant.js"))) as typeof RemTenant;
  const { insert1000 } = (await import(at("bench/vector/local-embed.js"))) as typeof LocalEmbed;
  const { vectorBenchConfig } = (await import(at("bench/vector/config.js"))) as typeof Config;
  const cfg = { ...vectorBenchConfig(false), insertReps: reps };
  const dir = await mkdtemp(join(tmpdir(), "rem-ab-insert-"));
  try {
    const bt = await createBenchTenant(dir);
    const set = await bt.tenant.vectors();
    const r = await insert1000(bt.tenant, cfg, set);
    const ix = set.index("notes", "text")!;
    const q = new Float32Array(ix.dim).fill(1);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) ix.search(q, 10);
    const searchMs = (performance.now() - t0) / 50;
    await bt.tenant.close();
    return { build: root, p50Ms: +r.p50.toFixed(1), p95Ms: +r.p95.toFixed(1), hnswApplyP50Ms: r.hnswApplyP50Ms === null ? null : +r.hnswApplyP50Ms.toFixed(1), backlogAfter: r.pendingGraphInsertsAfter, searchWithBacklogMs: +searchMs.toFixed(2) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const [a, b, repsText] = process.argv.slice(2);
if (a === undefined || b === undefined) {
  process.stderr.write("usage: node dist/bench/vector/ab-insert.js <distA> <distB> [reps=30]\n");
  process.exit(2);
}
const reps = Number(repsText ?? 30);
const results = [await run(a, reps), await run(b, reps)];
for (const r of results) process.stderr.write(`${JSON.stringify(r)}\n`);
process.stdout.write(`${JSON.stringify({ suite: "vector-ab-insert", reps, results })}\n`);
