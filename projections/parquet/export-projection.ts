import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Seq } from "../../events/model/ids.js";
import { fromHex, toHex, ZERO_HASH } from "../../events/hash.js";
import type { TenantLog } from "../../events/log/tenant-log.js";
import { isRemError, RemError } from "../../src/errors.js";
import { parseSchema } from "../../schema/definition.js";
import type { EntityRecord, SchemaRecord } from "../store/records.js";
import type { ProjectionStore } from "../store/store.js";
import { vectorOf } from "../store/records.js";
import { exportPlan, fallbackPlan, sqlType, stagingColumns, type ExportPlan } from "./columns.js";
import { compactSchema, shouldCompact } from "./compact.js";
import { openWriterDb, type WriterDb } from "./duck.js";
import { RwLock } from "./lock.js";
import { manifestFiles, readManifest, writeManifest, type DeltaEntry, type ExportOptions, type FileEntry, type Manifest, type SchemaFiles, type Watermark } from "./manifest.js";
import { scanSchemaBatches, scanSchemaEncoded, VectorMerge } from "./scan.js";
import { allIdsSql } from "./views.js";
import { EDGES_DIR, writeEdges } from "./edges.js";
import { ParquetWriter, type ExportRow, type WrittenFile } from "./writer.js";

/** What the export projection reads: a tenant's store, its log, and a way to bring the store up to date (Tenant fits). */
export interface ExportSource {
  readonly store: ProjectionStore;
  readonly log: TenantLog;
  sync(): Promise<unknown>;
}

export interface CatchUpOptions {
  /** Export embedded fields' vectors (FLOAT[]); default: as the export already does (off at first). Changing it rewrites everything. */
  readonly embeddings?: boolean;
  /** Drop the export and write it again from the store. */
  readonly rebuild?: boolean;
  /** Fold every schema's deltas into its base now (otherwise: when they pile up, compact.ts). */
  readonly compact?: boolean;
}

/** What a catch-up did. */
export interface CatchUpReport {
  /** none: already at the store's checkpoint; incremental: deltas from the log; full: every schema rewritten. */
  readonly mode: "none" | "incremental" | "full";
  readonly from_seq: number;
  readonly seq: number;
  /** Commits read from the log (incremental). */
  readonly commits: number;
  /** Entities whose rows were rewritten in deltas. */
  readonly changed: number;
  /** Schemas written in full (new, changed, rebuilt, or too many changes for a delta). */
  readonly rewritten: readonly string[];
  readonly dropped: readonly string[];
  readonly compacted: readonly string[];
  readonly seconds: number;
}

/** A delta bigger than this share of a schema's rows is replaced by rewriting the schema (one scan beats many point reads). */
const REWRITE_SHARE = 0.25;
const REWRITE_MIN_ROWS = 10_000;

const GENESIS_MARK: Watermark = { seq: 0, hash: toHex(ZERO_HASH), ts: 0 };

/**
 * The Parquet export of a tenant: one more projection of its log
 * (docs/analytics.md). Its manifest records the commit it reflects (seq and
 * chain hash); `catchUp()` brings it to the projection store's checkpoint:
 *
 *  - from scratch (no manifest, another store, other options): every schema's
 *    live entities are scanned from the store and written as base files;
 *  - otherwise the commits after the watermark are read from the log (the
 *    chain is verified to extend the watermark's hash) to learn which entities
 *    and schemas changed; changed entities' current records are written to one
 *    delta file per schema, with tombstones for deletions and for ids that left
 *    a schema; schemas that were registered, changed or dropped are rewritten
 *    or removed whole; deltas are compacted when they pile up.
 *
 * Files are published before the manifest that lists them, and files the new
 * manifest no longer lists are deleted after it: a crash at any point leaves a
 * consistent export (the next run deletes leftovers). Guarantee: after
 * `catchUp()`, the views (views.ts) hold exactly the store's live entities of
 * every registered schema as of a state at or after the watermark — the same
 * rows a full rebuild writes.
 */
export class ExportProjection {
  readonly dir: string;
  readonly #source: ExportSource;
  readonly #lock = new RwLock();
  #closed = false;

  constructor(source: ExportSource, dir: string) {
    this.#source = source;
    this.dir = dir;
  }

  get #tmpDir(): string {
    return join(this.dir, ".tmp");
  }

  /** The current manifest (null before the first export). */
  manifest(): Promise<Manifest | null> {
    return readManifest(this.dir);
  }

  /** Runs `fn` on the current manifest while no export run can change the files. */
  read<T>(fn: (m: Manifest | null) => Promise<T>): Promise<T> {
    return this.#lock.read(async () => fn(await readManifest(this.dir)));
  }

  /** Brings the export to the projection store's checkpoint (after catching the store up with the log). */
  catchUp(options: CatchUpOptions = {}): Promise<CatchUpReport> {
    return this.#lock.write(() => this.#catchUp(options));
  }

  /** Waits for a running export to finish; later calls fail. */
  async close(): Promise<void> {
    await this.#lock.write(async () => {
      this.#closed = true;
    });
  }

  async #catchUp(o: CatchUpOptions): Promise<CatchUpReport> {
    if (this.#closed) throw new RemError("REM_ERR_EXPORT_FAILED", "the tenant is closing: its export is no longer available", { path: this.dir });
    const started = performance.now();
    await this.#source.sync();
    const store = this.#source.store;
    const cp = store.checkpoint;
    const mark: Watermark = cp === null ? GENESIS_MARK : { seq: cp.seq, hash: toHex(cp.hash), ts: cp.ts };
    const old = o.rebuild === true ? null : await readManifest(this.dir);
    const options: ExportOptions = { embeddings: o.embeddings ?? old?.options.embeddings ?? false };
    const schemas = new Map((await store.listSchemas()).map((r) => [r.name, r]));
    const plans = new Map([...schemas].map(([name, rec]) => [name, planOf(rec, options)]));

    const full = old === null || old.store_id !== store.storeId || old.options.embeddings !== options.embeddings || old.watermark.seq > mark.seq;
    let changes: LogChanges = { ids: new Set(), schemas: new Set(), edges: false, commits: 0, firstTs: mark.ts };
    if (!full && old.watermark.seq < mark.seq) {
      const read = await this.#readChanges(old.watermark, mark, options);
      if (read === null) return this.#catchUp({ ...o, rebuild: true }); // the export follows another chain: start over
      changes = read;
    } else if (!full && old.watermark.hash !== mark.hash) {
      return this.#catchUp({ ...o, rebuild: true });
    }

    const rewrite = new Set<string>();
    for (const [name, rec] of schemas) {
      const prev = full ? undefined : old.schemas[name];
      if (prev === undefined || prev.version !== rec.version || prev.plan !== plans.get(name)!.fingerprint || changes.schemas.has(name)) rewrite.add(name);
    }
    const dropped = old === null ? [] : Object.keys(old.schemas).filter((n) => !schemas.has(n));
    const edgesChanged = full || old.edges === undefined || changes.edges;
    if (!full && rewrite.size === 0 && dropped.length === 0 && changes.ids.size === 0 && !edgesChanged && o.compact !== true) {
      if (old.watermark.seq === mark.seq) return report("none", old.watermark.seq, mark.seq, 0, 0, [], [], [], started);
      // Commits that changed no entity or edge (keys, embeddings not exported): the files stand, only the watermark moves. The
      // generation stays, so open SQL sessions over these files stay valid.
      await writeManifest(this.dir, { ...old, watermark: mark, store_id: store.storeId });
      return report("incremental", old.watermark.seq, mark.seq, changes.commits, 0, [], [], [], started);
    }

    await this.#clearTemp();
    await mkdir(this.#tmpDir, { recursive: true });
    const generation = (old?.generation ?? 0) + 1;
    const db = await openWriterDb(join(this.#tmpDir, "spill"));
    try {
      const next: Record<string, SchemaFiles> = {};
      // Schemas kept: their files so far; changed entities' rows become a delta.
      const kept = new Map<string, SchemaFiles>();
      for (const name of schemas.keys()) if (!rewrite.has(name)) kept.set(name, old!.schemas[name]!);
      const deltas = changes.ids.size === 0 ? new Map<string, ExportRow[]>() : await this.#deltaRows(db, changes, kept, mark, plans);
      for (const [name, rows] of deltas) {
        const baseRows = kept.get(name)!.base.reduce((n, f) => n + f.rows, 0);
        if (rows.length > Math.max(REWRITE_MIN_ROWS, baseRows * REWRITE_SHARE)) {
          rewrite.add(name);
          kept.delete(name);
          deltas.delete(name);
        }
      }
      for (const name of [...rewrite].sort()) {
        next[name] = await this.#writeSchema(db, store, schemas.get(name)!, plans.get(name)!, generation);
      }
      const compacted: string[] = [];
      for (const [name, files] of kept) {
        let s = files;
        const rows = deltas.get(name);
        if (rows !== undefined && rows.length > 0) {
          const written = await this.#write(db, plans.get(name)!, `${name}/g${generation}-delta`, rows, false);
          const added: DeltaEntry[] = written.map((f) => ({ ...f, generation, from_seq: old!.watermark.seq + 1, to_seq: mark.seq }));
          s = { ...s, deltas: [...s.deltas, ...added] };
        }
        if (o.compact === true ? s.deltas.length > 0 : shouldCompact(s)) {
          const base = await compactSchema(db, { root: this.dir, tmpDir: this.#tmpDir, schema: name, files: s, generation });
          s = { ...s, base: [base], deltas: [] };
          compacted.push(name);
        }
        next[name] = s;
      }
      const edges = edgesChanged ? { files: await writeEdges(db, store, { root: this.dir, tmpDir: this.#tmpDir, generation }) } : old!.edges!;
      const manifest: Manifest = { format: 1, generation, watermark: mark, store_id: store.storeId, options, schemas: sortedRecord(next), edges };
      await writeManifest(this.dir, manifest);
      await this.#deleteUnlisted(manifest);
      return report(full ? "full" : "incremental", old?.watermark.seq ?? 0, mark.seq, changes.commits, changes.ids.size, [...rewrite].sort(), dropped, compacted, started);
    } finally {
      db.close();
      await rm(this.#tmpDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Removes temp files of interrupted runs (`.tmp`, `.tmp-out-…`): under the write lock, nobody is using them. */
  async #clearTemp(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      return;
    }
    for (const e of entries) if (e.startsWith(".tmp")) await rm(join(this.dir, e), { recursive: true, force: true });
  }

  /** Which entities and schemas the commits (from, to] touch; null when the log does not extend `from` (another chain). */
  async #readChanges(from: Watermark, to: Watermark, options: ExportOptions): Promise<LogChanges | null> {
    const out: LogChanges = { ids: new Set(), schemas: new Set(), edges: false, commits: 0, firstTs: to.ts };
    const log = this.#source.log;
    let first = true;
    try {
      for await (const batch of log.read((from.seq + 1) as Seq, { after: { seq: from.seq, hash: fromHex(from.hash), ts: from.ts }, until: to.seq as Seq })) {
        for (const c of batch) {
          if (first) out.firstTs = c.ts;
          first = false;
          out.commits++;
          for (const e of log.events(c)) {
            switch (e.type) {
              case "entity.upserted":
              case "entity.deleted":
                out.ids.add(e.entity_id);
                break;
              case "embedding.recorded":
                if (options.embeddings) out.ids.add(e.entity_id);
                break;
              case "schema.registered":
              case "schema.changed":
              case "schema.dropped":
                out.schemas.add(e.name);
                break;
              case "edge.added":
              case "edge.removed":
                out.edges = true;
                break;
              default:
                break; // keys are not part of any exported row
            }
          }
        }
      }
    } catch (err) {
      if (isRemError(err, "REM_ERR_CHAIN_BROKEN") || isRemError(err, "REM_ERR_SEQ_GAP")) return null;
      throw err;
    }
    return out;
  }

  /**
   * Delta rows per kept schema: each changed entity's current record in its
   * current schema (a tombstone when deleted), plus tombstones in the other
   * schemas whose files still hold the id (an explicit id reused in another
   * schema, or a purge by a dropped schema). Only ids (re)created in the range
   * or gone from the store can have left a schema, so only those are looked up.
   */
  async #deltaRows(db: WriterDb, changes: LogChanges, kept: ReadonlyMap<string, SchemaFiles>, mark: Watermark, plans: ReadonlyMap<string, ExportPlan>): Promise<Map<string, ExportRow[]>> {
    const store = this.#source.store;
    const out = new Map<string, ExportRow[]>();
    const current = new Map<string, string>();
    const candidates: string[] = [];
    for (const id of changes.ids) {
      const rec = store.getEntity(id);
      if (rec === undefined || rec.created_at >= changes.firstTs) candidates.push(id);
      if (rec === undefined) continue;
      current.set(id, rec.schema);
      if (!kept.has(rec.schema)) continue;
      const plan = plans.get(rec.schema)!;
      const vectors = plan.embeddings.length === 0 ? undefined : plan.embeddings.map((e) => vectorFor(store, rec, e.field));
      push(out, rec.schema, { rec, deleted: rec.deleted_at !== null, vectors });
    }
    if (candidates.length === 0 || kept.size === 0) return out;
    for (const [schema, ids] of await this.#holders(db, candidates, kept)) {
      for (const id of ids) {
        if (current.get(id) === schema) continue;
        push(out, schema, { rec: tombstone(id, schema, mark), deleted: true });
      }
    }
    return out;
  }

  /** Which of the ids each kept schema's files hold. */
  async #holders(db: WriterDb, ids: readonly string[], kept: ReadonlyMap<string, SchemaFiles>): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    await db.append.run("CREATE TEMP TABLE _rem_candidates (id UUID)");
    const app = await db.append.createAppender("_rem_candidates");
    for (const id of ids) {
      app.appendVarchar(id);
      app.endRow();
    }
    app.closeSync();
    for (const [schema, files] of kept) {
      const r = await db.append.runAndReadAll(`SELECT DISTINCT CAST(id AS VARCHAR) FROM (${allIdsSql(this.dir, files)}) WHERE id IN (SELECT id FROM _rem_candidates)`);
      const found = r.getRows().map((row) => String(row[0]));
      if (found.length > 0) out.set(schema, found);
    }
    await db.append.run("DROP TABLE _rem_candidates");
    return out;
  }

  /** A schema's live entities, scanned from the store, as its new base files. */
  async #writeSchema(db: WriterDb, store: ProjectionStore, rec: SchemaRecord, plan: ExportPlan, generation: number): Promise<SchemaFiles> {
    const writer = new ParquetWriter(db, plan, { root: this.dir, tmpDir: this.#tmpDir, base: `${rec.name}/g${generation}-base` });
    const merges = plan.embeddings.map((e) => new VectorMerge(store, rec.name, e.field));
    try {
      if (merges.length === 0) {
        // The hot path: stored records go into the columns without being decoded into objects.
        for await (const batch of scanSchemaEncoded(store, rec.name)) await writer.addEncoded(batch);
      } else {
        for await (const batch of scanSchemaBatches(store, rec.name)) {
          const rows: ExportRow[] = [];
          for (const r of batch) {
            if (r.deleted_at !== null) continue;
            rows.push({ rec: r, deleted: false, vectors: await Promise.all(merges.map((m) => m.get(r.id))) });
          }
          await writer.add(rows);
        }
      }
      const base = await writer.finish({ always: true });
      return { version: rec.version, plan: plan.fingerprint, columns: columnsOf(plan), base: base.map(entry), deltas: [] };
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      for (const m of merges) await m.close();
    }
  }

  async #write(db: WriterDb, plan: ExportPlan, base: string, rows: readonly ExportRow[], always: boolean): Promise<WrittenFile[]> {
    const writer = new ParquetWriter(db, plan, { root: this.dir, tmpDir: this.#tmpDir, base });
    try {
      await writer.add(rows);
      return await writer.finish({ always });
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  /** Deletes files and schema directories the manifest does not list (replaced files, dropped schemas, leftovers of a crash). */
  async #deleteUnlisted(m: Manifest): Promise<void> {
    const keep = manifestFiles(m);
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const schemaDir = join(this.dir, entry.name);
      if (m.schemas[entry.name] === undefined && entry.name !== EDGES_DIR) {
        await rm(schemaDir, { recursive: true, force: true });
        continue;
      }
      for (const f of await readdir(schemaDir)) {
        if (!keep.has(`${entry.name}/${f}`)) await rm(join(schemaDir, f), { force: true });
      }
    }
  }
}

interface LogChanges {
  readonly ids: Set<string>;
  readonly schemas: Set<string>;
  /** An edge was added or removed: the `_edges` table is rewritten. */
  edges: boolean;
  commits: number;
  /** Timestamp of the first commit read: an entity created at or after it may have left another schema. */
  firstTs: number;
}

function planOf(rec: SchemaRecord, options: ExportOptions): ExportPlan {
  try {
    return exportPlan(parseSchema(rec.definition, rec.name), options);
  } catch {
    return fallbackPlan(rec.name); // a definition appended raw that REM cannot read: every field goes to _extra
  }
}

function vectorFor(store: ProjectionStore, rec: EntityRecord, field: string): Float32Array | null {
  if (rec.deleted_at !== null) return null;
  const v = store.getVector(rec.schema, field, rec.id);
  return v === undefined ? null : vectorOf(v);
}

function tombstone(id: string, schema: string, mark: Watermark): EntityRecord {
  return { id, schema, data: {}, created_at: mark.ts, modified_at: mark.ts, deleted_at: mark.ts, seq: mark.seq };
}

function push(map: Map<string, ExportRow[]>, key: string, row: ExportRow): void {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  list.push(row);
}

function entry(f: WrittenFile): FileEntry {
  return { file: f.file, rows: f.rows, bytes: f.bytes };
}

function columnsOf(plan: ExportPlan): { name: string; type: string }[] {
  const cols = stagingColumns(plan).map((c) => ({ name: c.name, type: sqlType(c.type) }));
  return [cols[0]!, { name: "entity_type", type: "VARCHAR" }, ...cols.slice(1)];
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

function report(mode: CatchUpReport["mode"], from: number, seq: number, commits: number, changed: number, rewritten: string[], dropped: string[], compacted: string[], started: number): CatchUpReport {
  return { mode, from_seq: from, seq, commits, changed, rewritten, dropped, compacted, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) };
}

