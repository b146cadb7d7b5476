import type * as Lance from "@lancedb/lancedb";
import type * as Arrow from "apache-arrow";
import { progress } from "../lib/report.js";
import { nowMs } from "../lib/timing.js";
import type { VectorBenchConfig } from "./config.js";
import type { Dataset } from "./dataset.js";

export type LanceModule = typeof Lance;
type ArrowModule = typeof Arrow;

export interface LanceTable {
  readonly lance: LanceModule;
  readonly db: Lance.Connection;
  readonly table: Lance.Table;
  /** Seconds to write the rows (in batches of `CHUNK`). */
  readonly ingestS: number;
  /** Seconds to train and build the IVF_HNSW_SQ index. */
  readonly vectorIndexS: number;
  /** Seconds to build the bitmap index on `bucket`. */
  readonly scalarIndexS: number;
  /** What was built, as LanceDB lists it. */
  readonly indexes: string[];
  readonly indexParams: Record<string, unknown>;
}

const CHUNK = 50_000;

/** Rows [from, to) as an Arrow table: id, text "v<i>", bucket, vector (fixed-size list of float32). */
function chunk(arrow: ArrowModule, ds: Dataset, cfg: VectorBenchConfig, from: number, to: number): Arrow.Table {
  const n = to - from;
  const item = new arrow.Field("item", new arrow.Float32(), true);
  const vectorType = new arrow.FixedSizeList(ds.dim, item);
  const schema = new arrow.Schema([
    new arrow.Field("id", new arrow.Int32(), false),
    new arrow.Field("text", new arrow.Utf8(), false),
    new arrow.Field("bucket", new arrow.Int32(), false),
    new arrow.Field("vector", vectorType, false),
  ]);
  const ids = new Int32Array(n);
  const buckets = new Int32Array(n);
  const texts: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = from + i;
    buckets[i] = (from + i) % cfg.buckets;
    texts[i] = `v${from + i}`;
  }
  // A plain (non-shared) copy of the rows: Arrow buffers must not be SharedArrayBuffers.
  const floats = ds.vectors.slice(from * ds.dim, to * ds.dim);
  const vectorData = arrow.makeData({ type: vectorType, length: n, nullCount: 0, child: arrow.makeData({ type: new arrow.Float32(), length: n * ds.dim, nullCount: 0, data: floats }) });
  const struct = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [
      arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: ids }),
      arrow.vectorFromArray(texts, new arrow.Utf8()).data[0]!,
      arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: buckets }),
      vectorData,
    ],
  });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}

/**
 * The peer: the same vectors in a LanceDB table in `dir` (in this process),
 * an IVF_HNSW_SQ index (cosine, M and efConstruction as REM's, `partitions`
 * IVF partitions) and a bitmap index on `bucket` for the filtered searches.
 */
export async function loadLance(dir: string, ds: Dataset, cfg: VectorBenchConfig): Promise<LanceTable> {
  const lance = await import("@lancedb/lancedb");
  const arrow = await import("apache-arrow");
  const db = await lance.connect(dir);
  const t0 = nowMs();
  let table: Lance.Table | null = null;
  for (let from = 0; from < ds.n; from += CHUNK) {
    const data = chunk(arrow, ds, cfg, from, Math.min(ds.n, from + CHUNK));
    if (table === null) table = await db.createTable("vecs", data, { mode: "overwrite" });
    else await table.add(data);
  }
  if (table === null) throw new Error("empty data set");
  const ingestS = (nowMs() - t0) / 1000;
  progress(`  LanceDB: ${await table.countRows()} rows written in ${ingestS.toFixed(1)} s; building IVF_HNSW_SQ (${cfg.lance.partitions} partitions, m ${cfg.hnsw.m}, efConstruction ${cfg.hnsw.efConstruction})`);
  const indexParams = { type: "IVF_HNSW_SQ", distanceType: "cosine", numPartitions: cfg.lance.partitions, m: cfg.hnsw.m, efConstruction: cfg.hnsw.efConstruction };
  const t1 = nowMs();
  await table.createIndex("vector", {
    config: lance.Index.hnswSq({ distanceType: "cosine", numPartitions: cfg.lance.partitions, m: cfg.hnsw.m, efConstruction: cfg.hnsw.efConstruction }),
  });
  const vectorIndexS = (nowMs() - t1) / 1000;
  const t2 = nowMs();
  await table.createIndex("bucket", { config: lance.Index.bitmap() });
  const scalarIndexS = (nowMs() - t2) / 1000;
  const indexes = (await table.listIndices()).map((i) => `${i.name} (${i.indexType} on ${i.columns.join(",")})`);
  return { lance, db, table, ingestS, vectorIndexS, scalarIndexS, indexes, indexParams };
}
