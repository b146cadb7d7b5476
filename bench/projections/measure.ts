import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { ProjectionRunner } from "../../projections/runner.js";
import { ProjectionStore } from "../../projections/store/store.js";
import { pack } from "../../projections/store/records.js";
import { entityView } from "../../projections/view.js";
import { executeQuery, explainQuery, type Plan } from "../../src/query/mod.js";
import { traverse } from "../../src/graph/traverse.js";
import { insertEntities } from "../../src/node/writes.js";
import type { Tenant } from "../../src/node/tenant.js";
import { latencies, type LatencySummary } from "../lib/stats.js";
import { nowMs, repeatRate, measure, type Rate } from "../lib/timing.js";
import { progress } from "../lib/report.js";
import type { ProjectionBenchConfig } from "./config.js";
import { doc, docId, SCHEMA } from "./workload.js";

/** Replays the tenant's whole log into a fresh store, `reps` times: events/s. */
export async function rebuildRate(t: Tenant, dir: string, cfg: ProjectionBenchConfig): Promise<Rate> {
  return repeatRate(cfg.rebuildReps, async (rep) => {
    const store = await ProjectionStore.open(join(dir, `rebuild-${rep}`));
    try {
      const runner = new ProjectionRunner(store, t.log);
      let events = 0;
      const s = await measure(
        () => events,
        async () => {
          events = (await runner.catchUp()).events;
        },
      );
      progress(`rebuild ${rep + 1}/${cfg.rebuildReps}: ${events} events in ${(s.ms / 1000).toFixed(2)} s`);
      return s;
    } finally {
      await store.close();
    }
  });
}

/**
 * The baseline: raw LevelDB (classic-level's public chained-batch API, the
 * write path any user of the library gets) putting the same rows — per entity
 * its record (pre-encoded, same size), id entry, key-index entry and three
 * index entries — in batches of the same size, with no reads and no logic.
 */
export async function rawLevelDbRate(dir: string, cfg: ProjectionBenchConfig, path: "public" | "hook"): Promise<Rate> {
  const record = Buffer.from(pack({ id: docId(0), schema: SCHEMA, data: doc(0, cfg.categories), created_at: Date.now(), modified_at: Date.now(), deleted_at: null, seq: 1 }));
  // Ids are computed before timing: the baseline measures LevelDB, not id derivation.
  const ids = Buffer.alloc(16 * cfg.entities);
  for (let i = 0; i < cfg.entities; i++) ids.write(docId(i).replace(/-/g, ""), i * 16, "hex");
  return repeatRate(cfg.rebuildReps, async (rep) => {
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, `raw-${path}-${rep}`), { keyEncoding: "buffer", valueEncoding: "buffer" });
    await db.open();
    type Hooked = ReturnType<typeof db.batch> & { _put(k: Buffer, v: Buffer, o: object): void; _write(o: object): Promise<void> };
    try {
      return await measure(
        () => cfg.entities,
        async () => {
          let batch = db.batch() as Hooked;
          // "public": the chained batch's put (validation, encodings); "hook": the binding's own put, as the projection runner writes.
          const put = path === "public" ? (k: Buffer, v: Buffer) => batch.put(k, v) : (k: Buffer, v: Buffer) => batch._put(k, v, {});
          const write = async () => {
            if (path === "public") await batch.write();
            else {
              await batch._write({});
              await batch.close();
            }
          };
          let ops = 0;
          for (let i = 0; i < cfg.entities; i++) {
            const id = ids.subarray(i * 16, i * 16 + 16);
            put(Buffer.concat([Buffer.from([3]), Buffer.from(`${SCHEMA}\0`), id]), record);
            put(Buffer.concat([Buffer.from([4]), id]), Buffer.from(`\0${SCHEMA}`));
            put(Buffer.concat([Buffer.from([5]), Buffer.from(`doc-${i}`)]), id);
            put(Buffer.concat([Buffer.from([6]), Buffer.from(`${SCHEMA}\0category\0\x01@c${i % cfg.categories}\0\x01`), id]), Buffer.alloc(0));
            put(Buffer.concat([Buffer.from([6]), Buffer.from(`${SCHEMA}\0status\0\x01@open\0\x01`), id]), Buffer.alloc(0));
            put(Buffer.concat([Buffer.from([6]), Buffer.from(`${SCHEMA}\0score\0\x01 `), Buffer.alloc(8, i & 0xff), id]), Buffer.alloc(0));
            ops += 6;
            if (ops >= 50_000) {
              await write();
              batch = db.batch() as Hooked;
              ops = 0;
            }
          }
          await write();
        },
      );
    } finally {
      await db.close();
    }
  });
}

/** Times `op` over `n` calls (after a warm-up of max(10, n/10) calls): per-call latency in ms. */
export async function latency(n: number, op: (i: number) => unknown): Promise<LatencySummary> {
  const warm = Math.max(10, Math.floor(n / 10));
  for (let i = 0; i < warm; i++) await op(n + i);
  const samples: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    const r = op(i);
    if (r instanceof Promise) await r; // sync operations are timed without an await
    samples[i] = nowMs() - t0;
  }
  return latencies(samples);
}

/** A spread of entity indexes (a multiplicative hash, so reads do not walk the keyspace in order). */
export function spread(i: number, n: number): number {
  return (i * 2654435761) % n;
}

export async function readLatencies(t: Tenant, cfg: ProjectionBenchConfig): Promise<{ get: LatencySummary; lookup: LatencySummary }> {
  const store = t.store;
  // Ids and keys are made before timing (deriving an id is a BLAKE3 hash, not part of a get).
  const n = cfg.samples + Math.max(10, cfg.samples / 10);
  const ids = Array.from({ length: n }, (_, i) => docId(spread(i, cfg.entities)));
  const keys = Array.from({ length: n }, (_, i) => `doc-${spread(i, cfg.entities)}`);
  const get = await latency(cfg.samples, (i) => {
    const rec = store.getEntity(ids[i]!);
    if (rec === undefined) throw new Error("missing entity");
    return entityView(rec);
  });
  const lookup = await latency(cfg.samples, (i) => {
    const hits = store.lookupKey(keys[i]!);
    if (hits.length !== 1) throw new Error("lookup missed");
    return entityView(store.getEntity(hits[0]!.id)!);
  });
  return { get, lookup };
}

export interface QueryFigures {
  readonly indexedEq: LatencySummary;
  readonly indexedEqPlan: Plan;
  readonly scanLimit: LatencySummary;
  readonly scanPlan: Plan;
}

export async function queryLatencies(t: Tenant, cfg: ProjectionBenchConfig): Promise<QueryFigures> {
  const eq = (i: number) => `SELECT * FROM ${SCHEMA} WHERE category = 'c${spread(i, cfg.categories)}' LIMIT 100`;
  const indexedEqPlan = await explainQuery(t.store, eq(0));
  const n = Math.min(cfg.samples, 2000);
  const indexedEq = await latency(n, async (i) => {
    const r = await executeQuery(t.store, eq(i));
    if (r.rows.length !== 100) throw new Error(`expected 100 rows, got ${r.rows.length}`);
  });
  // A non-indexed predicate: the planner falls back to a scan (and says so); LIMIT lets it stop early.
  const scan = `SELECT * FROM ${SCHEMA} WHERE views >= 0 LIMIT 100`;
  const scanPlan = await explainQuery(t.store, scan);
  const scanLimit = await latency(Math.min(n, 200), async () => {
    const r = await executeQuery(t.store, scan);
    if (r.rows.length !== 100) throw new Error(`expected 100 rows, got ${r.rows.length}`);
  });
  return { indexedEq, indexedEqPlan, scanLimit, scanPlan };
}

export async function traverseLatency(t: Tenant, cfg: ProjectionBenchConfig): Promise<{ latency: LatencySummary; nodes: number; coldMs: number }> {
  const root = docId(0);
  // The first traversal reads every node from LevelDB; later ones find their states cached.
  const t0 = nowMs();
  const nodes = traverse(t.store, root, { depth: 3 }).length;
  const coldMs = nowMs() - t0;
  const l = await latency(Math.min(cfg.samples, 2000), () => traverse(t.store, root, { depth: 3 }));
  return { latency: l, nodes, coldMs };
}

/** 1000 new documents through validation, ids, a durable (fdatasync) append and projection: ms each. */
export async function insertLatency(t: Tenant, cfg: ProjectionBenchConfig): Promise<LatencySummary> {
  let base = cfg.entities + 10_000;
  return latency(cfg.insertReps, async () => {
    const docs = Array.from({ length: 1000 }, (_, k) => doc(base + k, cfg.categories));
    base += 1000;
    const r = await insertEntities(t, SCHEMA, docs);
    if (r.ids.length !== 1000) throw new Error("insert lost documents");
  });
}
