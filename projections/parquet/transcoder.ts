import { unpack } from "../store/records.js";
import { ListBuilder, type Builder, type StructBuilder } from "./builders.js";
import type { ExportPlan, FieldColumn } from "./columns.js";
import { MsgReader, objectKey } from "./msgpack-reader.js";
import { canonicalJson, topKey, type RowBuilder } from "./rows.js";
import { keySwitch, mem, millisCode, SourceWriter, uuidCode, valueCode } from "./transcoder-source.js";
import { parseDateBytes, parseTimestampBytes, setInt64, setUuidBytes, type TimestampParts } from "./values.js";

/** Adds one stored entity record to the row builder's columns; false when it was a tombstone skipped (`liveOnly`). */
export type Transcoder = (bytes: Buffer, liveOnly: boolean) => boolean;

/**
 * A transcoder generated for the row builder's plan: the same rows as
 * `RowBuilder.addEncoded`, without per-value dispatch (transcoder-source.ts
 * says why). Null for plans it does not cover (embedding columns: their rows
 * are built from decoded records).
 */
export function compileTranscoder(plan: ExportPlan, rows: RowBuilder): Transcoder | null {
  if (plan.embeddings.length > 0) return null;
  const cols = rows.columns;
  const vars: Builder[] = [];
  const names = new Map<Builder, string>();
  const bind = (b: Builder): string => {
    let v = names.get(b);
    if (v === undefined) {
      v = `c${vars.length}`;
      vars.push(b);
      names.set(b, v);
    }
    return v;
  };
  const byVar = new Map<string, Builder>();
  const child = (v: string, k: number): string => {
    const b = byVar.get(v)!;
    const c = b instanceof ListBuilder ? b.child : (b as StructBuilder).children[k]!;
    const cv = bind(c);
    byVar.set(cv, c);
    return cv;
  };
  const col = (i: number): string => {
    const v = bind(cols[i]!);
    byVar.set(v, cols[i]!);
    return v;
  };
  const nf = plan.fields.length;
  const [id, created, modified, deletedAt] = [col(0), col(1), col(2), col(3)];
  const fields = plan.fields.map((_, j) => col(4 + j));
  const [extra, seq, deleted] = [col(4 + nf), col(5 + nf), col(6 + nf)];
  const w = new SourceWriter();
  const source = recordSource(plan.fields, { id, created, modified, deletedAt, fields, extra, seq, deleted }, w, child);
  // Builders with memory of their own (fixed-width and string columns) get it bound once (transcoder-source.ts, mem()).
  const mems = vars.flatMap((b, k) => ("mem" in b ? [`const ${mem(`c${k}`)} = c${k}.mem;`] : []));
  const header = `"use strict";
const { r, unpack, objectKey, canonicalJson, topKey, eq, setInt64, setUuidBytes, parseTimestampBytes, parseDateBytes, ts, MAX_I64, names, all } = rt;
const [${vars.map((_, k) => `c${k}`).join(", ")}] = rt.cols;
${mems.join("\n")}`;
  // A new Function per plan, so V8 keeps type feedback per schema. Its source comes from the plan's column types only: names are data (rt.names) or byte values.
  const factory = new Function("rt", `${header}\n${source}`) as (rt: Runtime) => Transcoder;
  return factory({
    r: new MsgReader(Buffer.alloc(0)),
    unpack,
    objectKey,
    canonicalJson,
    topKey,
    eq,
    setInt64,
    setUuidBytes,
    parseTimestampBytes,
    parseDateBytes,
    ts: { micros: 0, seconds: 0, fraction: 0, exact: true },
    MAX_I64: 2 ** 63,
    names: plan.fields.map((f) => f.field),
    all: cols,
    cols: vars,
  });
}

/** What the generated code uses: the reader, value helpers, field names for `_extra`, and the builders. */
interface Runtime {
  readonly r: MsgReader;
  readonly unpack: typeof unpack;
  readonly objectKey: typeof objectKey;
  readonly canonicalJson: typeof canonicalJson;
  readonly topKey: typeof topKey;
  readonly eq: typeof eq;
  readonly setInt64: typeof setInt64;
  readonly setUuidBytes: typeof setUuidBytes;
  readonly parseTimestampBytes: typeof parseTimestampBytes;
  readonly parseDateBytes: typeof parseDateBytes;
  /** Reused by every timestamp parsed (parseTimestampBytes fills it). */
  readonly ts: TimestampParts;
  readonly MAX_I64: number;
  readonly names: readonly string[];
  readonly all: readonly Builder[];
  readonly cols: readonly Builder[];
}

/** Whether buf[at…] holds `bytes` (keys longer than the unrolled comparisons). */
function eq(buf: Buffer, at: number, bytes: readonly number[]): boolean {
  for (let k = 0; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}

interface RecordVars {
  readonly id: string;
  readonly created: string;
  readonly modified: string;
  readonly deletedAt: string;
  readonly fields: readonly string[];
  readonly extra: string;
  readonly seq: string;
  readonly deleted: string;
}

const encoder = new TextEncoder();

/**
 * The function body: `data(buf)` reads the data map into the field columns
 * (returning what goes to `_extra`), and the returned function reads the
 * record's top-level keys (records.ts: id, schema, data, times, seq) as
 * `RowBuilder.addEncoded` does.
 */
function recordSource(fields: readonly FieldColumn[], v: RecordVars, w: SourceWriter, child: (b: string, k: number) => string): string {
  const seen = fields.map(() => w.id("seen"));
  const cases = fields.map((f, j) => {
    const start = w.id("start");
    const body = `const ${start} = r.pos; let ok = true;
${valueCode(f.type, v.fields[j]!, "ok", w, child)}
if (!ok) { const end = r.pos; r.pos = ${start}; (extra ??= {})[names[${j}]] = r.value(); r.pos = end; }`;
    return { bytes: encoder.encode(f.field), seen: seen[j]!, body };
  });
  const allNull = v.fields.map((f) => `${f}.null();`).join(" ");
  return `function data(buf) {
  const n = r.map();
  if (n < 0) { r.skip(); ${allNull} return null; }
  let extra = null;
  ${seen.map((x) => `let ${x} = false;`).join(" ")}
  D: for (let i = 0; i < n; i++) {
    const ks = r.str();
    if (ks < 0) { r.skip(); r.skip(); continue; }
    const len = r.len;
    ${cases.length > 0 ? keySwitch(cases, "ks", "len", "D") : ""}
    (extra ??= {})[objectKey(buf.toString("utf8", ks, ks + len))] = r.value();
  }
  ${seen.map((x, j) => `if (!${x}) ${v.fields[j]}.null();`).join(" ")}
  return extra;
}
return function add(buf, liveOnly) {
  r.reset(buf);
  const mark = ${v.id}.count;
  const entries = r.map();
  if (entries < 0) throw new Error("not an entity record");
  let extra = null, deleted = false, hasId = false, hasData = false, hasCreated = false, hasModified = false, hasDeleted = false, hasSeq = false;
  for (let e = 0; e < entries; e++) {
    const ks = r.str();
    switch (ks < 0 ? -1 : topKey(buf, ks, r.len)) {
      case 0: hasId = true; ${uuidCode(v.id, w)} break;
      case 2: hasData = true; extra = data(buf); break;
      case 3: hasCreated = true; ${millisCode(v.created, w)} break;
      case 4: hasModified = true; ${millisCode(v.modified, w)} break;
      case 5: hasDeleted = true; deleted = buf[r.pos] !== 0xc0; ${millisCode(v.deletedAt, w)} break;
      case 6: hasSeq = true; ${valueCode({ kind: "bigint" }, v.seq, "_", w, child)} break;
      default: if (ks < 0) r.skip(); r.skip();
    }
  }
  if (!hasId) ${v.id}.null();
  if (!hasCreated) ${v.created}.null();
  if (!hasModified) ${v.modified}.null();
  if (!hasDeleted) ${v.deletedAt}.null();
  if (!hasSeq) ${v.seq}.null();
  if (!hasData) { ${allNull} }
  if (deleted && liveOnly) { for (const b of all) if (b.count > mark) b.rollback(mark); return false; }
  if (extra === null) ${v.extra}.null(); else ${v.extra}.text(canonicalJson(extra));
  { const o = ${v.deleted}.count; ${mem(v.deleted)}.ensure(o + 1); ${mem(v.deleted)}.u8[o] = deleted ? 1 : 0; ${v.deleted}.count++; }
  return true;
};`;
}
