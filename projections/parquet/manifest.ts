import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./files.js";

/**
 * The export projection's manifest, `<exports>/manifest.json`: its watermark
 * (the last commit the files reflect, with that commit's chain hash) and, per
 * schema, the files that make up its rows. It is the only thing readers trust:
 * files not listed are leftovers of an interrupted run and are deleted by the
 * next one. It is replaced atomically, after every file it lists is durable,
 * so a crash leaves either the old export or the new one, never a mix.
 */
export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  /** Incremented by every write; part of new file names, so a name is never reused. */
  readonly generation: number;
  readonly watermark: Watermark;
  /** The projection store the rows were read from (a rebuilt store has a new id). */
  readonly store_id: string;
  readonly options: ExportOptions;
  readonly schemas: Readonly<Record<string, SchemaFiles>>;
  /** The `_edges` table (edges.ts); absent in exports written before edges were exported (the next run adds it). */
  readonly edges?: EdgeFiles;
}

export interface EdgeFiles {
  /** Every edge the store held at the watermark, rewritten whole when edges change. */
  readonly files: readonly FileEntry[];
}

export interface Watermark {
  readonly seq: number;
  /** Hex BLAKE3 chain hash of commit `seq` (zeros at 0). */
  readonly hash: string;
  readonly ts: number;
}

export interface ExportOptions {
  /** Export embedded fields' vectors as FLOAT[] columns. */
  readonly embeddings: boolean;
}

export interface SchemaFiles {
  /** The schema record's version (the commit that registered or last changed it). */
  readonly version: number;
  /** exportPlan(...).fingerprint: the columns the files have. */
  readonly plan: string;
  /** Column names and DuckDB types, for `rem export` output and docs. */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Resolved live rows (no tombstones, one row per id), at least one file. */
  readonly base: readonly FileEntry[];
  /** Changes since the base, oldest first: a later file's row for an id wins; tombstones hide the id. */
  readonly deltas: readonly DeltaEntry[];
}

export interface FileEntry {
  /** Relative to the export directory. */
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface DeltaEntry extends FileEntry {
  /** The generation that wrote it: views order rows of one id by it. */
  readonly generation: number;
  /** The commits it covers: (from_seq − 1, to_seq]. */
  readonly from_seq: number;
  readonly to_seq: number;
}

export const MANIFEST_FORMAT = 1;
export const MANIFEST_FILE = "manifest.json";

/** The manifest, or null when there is none or it is of another format (the export is then rebuilt). */
export async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    return m.format === MANIFEST_FORMAT ? m : null;
  } catch {
    return null; // unreadable: rebuilt from the store, like any projection
  }
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(m, null, 1) + "\n");
}

/** Every file a manifest references. */
export function manifestFiles(m: Manifest): Set<string> {
  const out = new Set<string>();
  for (const s of Object.values(m.schemas)) for (const f of [...s.base, ...s.deltas]) out.add(f.file);
  for (const f of m.edges?.files ?? []) out.add(f.file);
  return out;
}
