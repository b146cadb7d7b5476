import type { ProjectionStore } from "../../projections/store/store.js";

/**
 * Everything in a projection store but its metadata (store id, checkpoint), as
 * sorted comparable lines: two stores built from the same log prefix dump equal.
 */
export async function dumpStore(store: ProjectionStore): Promise<string[]> {
  const out: string[] = [];
  const { meta: _meta, ...families } = store.families();
  for (const [name, family] of Object.entries(families)) {
    for await (const [k, v] of family.iterator()) out.push(`${name} ${Buffer.from(k).toString("hex")} ${Buffer.from(v).toString("hex")}`);
  }
  return out;
}
