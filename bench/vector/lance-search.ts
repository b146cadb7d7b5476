import type * as Lance from "@lancedb/lancedb";
import type { Engine } from "./interleave.js";

export interface LanceParams {
  readonly nprobes: number;
  readonly ef: number;
  readonly refineFactor?: number;
  /** A filter, applied before the vector search (LanceDB's default, "prefilter"). */
  readonly where?: string;
  /** Skip the vector index: exact (flat) search over the rows the filter leaves. */
  readonly flat?: boolean;
}

export function describeLance(p: LanceParams): string {
  if (p.flat === true) return `flat${p.where === undefined ? "" : ", prefilter"}`;
  return `nprobes ${p.nprobes}, ef ${p.ef}${p.refineFactor === undefined ? "" : `, refineFactor ${p.refineFactor}`}${p.where === undefined ? "" : ", prefilter"}`;
}

interface Row {
  readonly id: number;
}

/**
 * LanceDB's query API: nearest-to with the given parameters, returning the
 * same fields REM returns (id, text, bucket, and the distance as its score), as JS objects.
 */
export function lanceEngine(name: string, table: Lance.Table, queries: readonly Float32Array[], k: number, p: LanceParams): Engine<Row[]> {
  return {
    name,
    async run(q) {
      let query = table.query().nearestTo(queries[q]!).distanceType("cosine").limit(k).select(["id", "text", "bucket", "_distance"]);
      if (p.flat === true) query = query.bypassVectorIndex();
      else query = query.nprobes(p.nprobes).ef(p.ef);
      if (p.refineFactor !== undefined) query = query.refineFactor(p.refineFactor);
      if (p.where !== undefined) query = query.where(p.where);
      return (await query.toArray()) as Row[];
    },
    ids: (rows) => rows.map((r) => Number(r.id)),
  };
}
