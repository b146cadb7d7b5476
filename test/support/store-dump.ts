import type { ProjectionStore } from "../../projections/store/store.js";

/**
 * Everything in a projection store but its metadata (store id, checkpoint), and
 * any family named in `omit`, as comparable lines: two stores built from the
 * same log prefix dump equal.
 */
export async function dumpStore(store: ProjectionStore, options: { omit?: readonly string[] } = {}): Promise<string[]> {
  const out: string[] = [];
  const omit = new Set(["meta", ...(options.omit ?? [])]);
  for (const [name, family] of Object.entries(store.families())) {
    if (omit.has(name)) continue;
    for await (const [k, v] of family.iterator()) out.push(`${name} ${Buffer.from(k).toString("hex")} ${Buffer.from(v).toString("hex")}`);
  }
  return out;
}
