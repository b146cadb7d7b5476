import duckdb from "@duckdb/node-bindings";
import { unpack } from "../store/records.js";
import type { ColumnType, StructField } from "./columns.js";
import type { MsgReader } from "./msgpack-reader.js";
import { parseDate, parseTimestamp, setInt64, setUuid, setUuidBytes } from "./values.js";

/**
 * Column builders: they collect one column's values for a data chunk and then
 * write them into a DuckDB vector through the C API's bulk copies —
 * fixed-width values and strings of ≤ 12 bytes laid out in a buffer and copied
 * with one call per vector, only longer strings assigned one call each. That is
 * several times faster than @duckdb/node-api's per-value setters or the
 * appender's per-value calls (docs/analytics.md, "Why this writer").
 *
 * Values come in two ways, with the same result: as JavaScript values (`js`,
 * for records already decoded), or straight from a stored record's MessagePack
 * bytes (`mp`: no JavaScript object is built for a row). The full export's
 * generated transcoders (transcoder.ts) decode values themselves and write
 * into the builders' memory (`mem`, `slot`, `long`, `row`, `setNull`); the
 * builders still lay the chunk out in DuckDB's vectors (`flush`).
 *
 * Guarantee: a value is represented exactly, or it is written as NULL (or, for
 * a timestamp with sub-microsecond digits, approximated) and the append returns
 * false, so the row keeps the original in `_extra`. NULL and missing values are
 * NULL and not lossy.
 */

type Vector = duckdb.Vector;

const EXACT = 0;
const INEXACT = 1;
const NO_FIT = 2;
type Fit = typeof EXACT | typeof INEXACT | typeof NO_FIT;

/** Growable memory with typed views (its own ArrayBuffer: offset 0, aligned for the 32-bit view). */
export class Memory {
  ab = new ArrayBuffer(16 * 1024);
  u8 = new Uint8Array(this.ab);
  u32 = new Uint32Array(this.ab);
  view = new DataView(this.ab);

  ensure(bytes: number): void {
    if (bytes <= this.ab.byteLength) return;
    const next = new ArrayBuffer(Math.max(bytes, this.ab.byteLength * 2));
    new Uint8Array(next).set(this.u8);
    this.ab = next;
    this.u8 = new Uint8Array(next);
    this.u32 = new Uint32Array(next);
    this.view = new DataView(next);
  }

  copyTo(vector: Vector, bytes: number): void {
    duckdb.copy_data_to_vector(vector, 0, this.ab, 0, bytes);
  }
}

export abstract class Builder {
  count = 0;
  #nulls = new Uint8Array(2048);
  #anyNull = false;

  /** Appends a JavaScript value (undefined and null append NULL); false when it is not represented exactly. */
  abstract js(v: unknown): boolean;
  /** Appends the MessagePack value under the reader (always consuming it); false when it is not represented exactly. */
  abstract mp(r: MsgReader): boolean;
  /** Appends NULL. */
  abstract null(): void;
  /** Forgets the rows from `n` on. */
  rollback(n: number): void {
    if (this.#anyNull && n < this.count) this.#nulls.fill(0, n, Math.min(this.count, this.#nulls.length));
    this.count = n;
  }
  /** Writes rows [0, count) into `vector` and starts over. */
  abstract flush(vector: Vector): void;

  /** Marks row i NULL (rows are valid unless marked). Public for generated transcoders (transcoder.ts). */
  setNull(i: number): void {
    if (i >= this.#nulls.length) {
      const next = new Uint8Array(Math.max(i + 1, this.#nulls.length * 2));
      next.set(this.#nulls);
      this.#nulls = next;
    }
    this.#nulls[i] = 1;
    this.#anyNull = true;
  }

  /** Copies the validity mask (1 = valid) when any row is NULL (new vectors start all-valid), and clears the marks. */
  protected flushValidity(vector: Vector): void {
    if (!this.#anyNull) return;
    const n = this.count;
    const nulls = this.#nulls;
    let any = false;
    const words = Math.ceil(n / 64) * 8;
    const mask = new Uint8Array(words).fill(0xff);
    for (let i = 0; i < n; i++) {
      if (nulls[i] === 1) {
        mask[i >> 3]! &= ~(1 << (i & 7));
        any = true;
      }
    }
    nulls.fill(0);
    this.#anyNull = false;
    if (!any) return;
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, words);
  }
}

/** Fixed-width values: `putJs`/`putMp` write one at byte offset `o` of the memory. */
abstract class FixedBuilder extends Builder {
  readonly #width: number;
  readonly #mem = new Memory();

  constructor(width: number) {
    super();
    this.#width = width;
  }

  protected abstract putJs(m: Memory, o: number, v: unknown): Fit;
  protected abstract putMp(m: Memory, o: number, r: MsgReader): Fit;

  /** The column's memory (generated transcoders write values into it; valid until the next `slot()`). */
  get mem(): Memory {
    return this.#mem;
  }

  /** Makes room for one more row; returns its byte offset (the row counts once the caller increments `count`). */
  slot(): number {
    this.#mem.ensure((this.count + 1) * this.#width);
    return this.count * this.#width;
  }

  null(): void {
    this.#mem.ensure((this.count + 1) * this.#width);
    this.setNull(this.count++);
  }

  js(v: unknown): boolean {
    if (v === undefined || v === null) {
      this.null();
      return true;
    }
    this.#mem.ensure((this.count + 1) * this.#width);
    return this.#done(this.putJs(this.#mem, this.count * this.#width, v));
  }

  mp(r: MsgReader): boolean {
    if (r.nil()) {
      this.null();
      return true;
    }
    this.#mem.ensure((this.count + 1) * this.#width);
    const at = r.pos;
    const fit = this.putMp(this.#mem, this.count * this.#width, r);
    if (r.pos === at) r.skip(); // not of the expected type: consume it anyway
    return this.#done(fit);
  }

  #done(fit: Fit): boolean {
    if (fit === NO_FIT) this.setNull(this.count);
    this.count++;
    return fit === EXACT;
  }

  flush(vector: Vector): void {
    this.#mem.copyTo(vector, this.count * this.#width);
    this.flushValidity(vector);
    this.count = 0;
  }
}

class DoubleBuilder extends FixedBuilder {
  constructor() {
    super(8);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    if (typeof v !== "number") return NO_FIT;
    m.view.setFloat64(o, v, true);
    return EXACT;
  }
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    return this.putJs(m, o, r.number());
  }
}

const MAX_I64 = 2 ** 63;

class BigIntBuilder extends FixedBuilder {
  constructor() {
    super(8);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    if (typeof v !== "number" || !Number.isInteger(v) || v >= MAX_I64 || v < -MAX_I64) return NO_FIT;
    setInt64(m.view, o, v);
    return EXACT;
  }
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    return this.putJs(m, o, r.number());
  }
}

/** Milliseconds since the epoch (REM's system times) as TIMESTAMP µs (UTC). */
class MillisBuilder extends FixedBuilder {
  constructor() {
    super(8);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    if (typeof v !== "number" || !Number.isFinite(v)) return NO_FIT;
    setInt64(m.view, o, Math.round(v * 1000));
    return EXACT;
  }
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    return this.putJs(m, o, r.number());
  }
}

class BooleanBuilder extends FixedBuilder {
  constructor() {
    super(1);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    if (typeof v !== "boolean") return NO_FIT;
    m.u8[o] = v ? 1 : 0;
    return EXACT;
  }
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    return this.putJs(m, o, r.bool());
  }
}

class FloatBuilder extends FixedBuilder {
  constructor() {
    super(4);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    if (typeof v !== "number") return NO_FIT;
    m.view.setFloat32(o, v, true);
    return EXACT; // FLOAT columns hold embeddings: float32 by definition
  }
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    return this.putJs(m, o, r.number());
  }
}

/** Text-valued fixed columns (timestamps, dates, UUIDs): from MessagePack, the text is read as a string first. */
abstract class TextFixedBuilder extends FixedBuilder {
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    const s = r.str();
    if (s < 0) return NO_FIT;
    // Valid values are ASCII; latin1 keeps any other byte as a character the parsers reject.
    return this.putJs(m, o, r.buf.toString("latin1", s, s + r.len));
  }
}

class TimestampBuilder extends TextFixedBuilder {
  constructor() {
    super(8);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    const t = typeof v === "string" ? parseTimestamp(v) : null;
    if (t === null) return NO_FIT;
    if (Number.isSafeInteger(t.micros)) setInt64(m.view, o, t.micros);
    else m.view.setBigInt64(o, BigInt(t.seconds) * 1_000_000n + BigInt(t.fraction), true);
    return t.exact ? EXACT : INEXACT;
  }
}

class DateBuilder extends TextFixedBuilder {
  constructor() {
    super(4);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    const d = typeof v === "string" ? parseDate(v) : null;
    if (d === null) return NO_FIT;
    m.view.setInt32(o, d, true);
    return EXACT;
  }
}

class UuidBuilder extends FixedBuilder {
  constructor() {
    super(16);
  }
  protected putJs(m: Memory, o: number, v: unknown): Fit {
    return typeof v === "string" && setUuid(m.u8, o, v) ? EXACT : NO_FIT;
  }
  protected putMp(m: Memory, o: number, r: MsgReader): Fit {
    const s = r.str();
    if (s < 0) return NO_FIT;
    return r.len === 36 && setUuidBytes(m.u8, o, r.buf, s) ? EXACT : NO_FIT;
  }
}

const MAX_INLINE = 12;

/**
 * VARCHAR (and JSON, its alias): DuckDB's 16-byte string_t is length ‖ 12
 * inline bytes for short strings — zero-padded, DuckDB compares the padding —
 * so those are laid out and copied in bulk; longer ones are assigned one by one
 * after the copy.
 */
class StringBuilder extends Builder {
  readonly #json: boolean;
  readonly #mem = new Memory();
  #longIdx: number[] = [];
  #longVal: (string | Uint8Array)[] = [];

  constructor(json: boolean) {
    super();
    this.#json = json;
  }

  /** The slots' memory (generated transcoders write inline strings into it). */
  get mem(): Memory {
    return this.#mem;
  }

  /** Makes row `count` a long string (≥ 13 bytes of UTF-8), assigned at flush; the caller increments `count`. */
  long(bytes: Uint8Array): void {
    this.#longIdx.push(this.count);
    this.#longVal.push(bytes);
  }

  /** Zeroes the next slot (DuckDB compares inline padding) and returns its byte offset. */
  slot(): number {
    const o = this.count * 16;
    this.#mem.ensure(o + 16);
    const u32 = this.#mem.u32;
    const q = o >> 2;
    u32[q] = 0;
    u32[q + 1] = 0;
    u32[q + 2] = 0;
    u32[q + 3] = 0;
    return o;
  }

  null(): void {
    this.slot();
    this.setNull(this.count++);
  }

  js(v: unknown): boolean {
    if (v === undefined || v === null) {
      this.null();
      return true;
    }
    const s = this.#json ? JSON.stringify(v) : typeof v === "string" ? v : undefined;
    if (s === undefined) {
      this.null();
      return false;
    }
    this.text(s);
    return true;
  }

  /** Appends text as is (JSON columns: already-encoded JSON). */
  text(s: string): void {
    const o = this.slot();
    if (!inline(this.#mem, o, s)) {
      this.#longIdx.push(this.count);
      this.#longVal.push(s);
    }
    this.count++;
  }

  mp(r: MsgReader): boolean {
    if (r.nil()) {
      this.null();
      return true;
    }
    if (this.#json) return this.js(r.value());
    const at = r.pos;
    const s = r.str();
    if (s < 0) {
      r.skip();
      this.null();
      return false;
    }
    const len = r.len;
    const buf = r.buf;
    if (!r.utf8(s, len)) {
      // Not well-formed UTF-8 (a lone surrogate): decode it as msgpackr does, then as any JS string.
      this.text(unpack<string>(buf.subarray(at, r.pos)));
      return true;
    }
    const o = this.slot();
    if (len <= MAX_INLINE) {
      const u8 = this.#mem.u8;
      this.#mem.u32[o >> 2] = len;
      for (let k = 0; k < len; k++) u8[o + 4 + k] = buf[s + k]!;
    } else {
      this.#longIdx.push(this.count);
      this.#longVal.push(new Uint8Array(buf.buffer, buf.byteOffset + s, len));
    }
    this.count++;
    return true;
  }

  override rollback(n: number): void {
    super.rollback(n);
    while (this.#longIdx.length > 0 && this.#longIdx[this.#longIdx.length - 1]! >= n) {
      this.#longIdx.pop();
      this.#longVal.pop();
    }
  }

  flush(vector: Vector): void {
    this.#mem.copyTo(vector, this.count * 16);
    for (let k = 0; k < this.#longIdx.length; k++) {
      const v = this.#longVal[k]!;
      const i = this.#longIdx[k]!;
      // The C API takes a C string: text holding NUL goes with its length instead.
      if (typeof v !== "string") duckdb.vector_assign_string_element_len(vector, i, v);
      else if (v.indexOf("\0") === -1) duckdb.vector_assign_string_element(vector, i, v);
      else duckdb.vector_assign_string_element_len(vector, i, Buffer.from(v, "utf8"));
    }
    this.#longIdx = [];
    this.#longVal = [];
    this.flushValidity(vector);
    this.count = 0;
  }
}

const encoder = new TextEncoder();

/** Writes s inline into the zeroed slot at `o` when its UTF-8 form has ≤ 12 bytes. */
function inline(m: Memory, o: number, s: string): boolean {
  const len = s.length;
  if (len > MAX_INLINE) return false;
  const u8 = m.u8;
  for (let k = 0; k < len; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x80) {
      const r = encoder.encodeInto(s, u8.subarray(o + 4, o + 16));
      if (r.read !== len) {
        u8.fill(0, o + 4, o + 16);
        return false;
      }
      m.u32[o >> 2] = r.written;
      return true;
    }
    u8[o + 4 + k] = c;
  }
  m.u32[o >> 2] = len;
  return true;
}

/** LIST: (offset, length) pairs of u64, the flattened items in the child vector. */
class ListBuilder extends Builder {
  readonly child: Builder;
  readonly #entries = new Memory();
  #offsets: number[] = [];
  #lengths: number[] = [];

  constructor(child: Builder) {
    super();
    this.child = child;
  }

  null(): void {
    this.#offsets[this.count] = this.child.count;
    this.#lengths[this.count] = 0;
    this.setNull(this.count++);
  }

  js(v: unknown): boolean {
    if (v === undefined || v === null) {
      this.null();
      return true;
    }
    if (!Array.isArray(v)) {
      this.null();
      return false;
    }
    const start = this.child.count;
    let exact = true;
    for (const x of v) if (!this.child.js(x)) exact = false;
    this.row(start, v.length);
    return exact;
  }

  mp(r: MsgReader): boolean {
    if (r.nil()) {
      this.null();
      return true;
    }
    const n = r.array();
    if (n < 0) {
      r.skip();
      this.null();
      return false;
    }
    const start = this.child.count;
    let exact = true;
    for (let i = 0; i < n; i++) if (!this.child.mp(r)) exact = false;
    this.row(start, n);
    return exact;
  }

  /** Ends a row whose items are child rows [start, start + length). */
  row(start: number, length: number): void {
    this.#offsets[this.count] = start;
    this.#lengths[this.count] = length;
    this.count++;
  }

  override rollback(n: number): void {
    if (n < this.count) this.child.rollback(this.#offsets[n]!);
    super.rollback(n);
  }

  flush(vector: Vector): void {
    const mem = this.#entries;
    mem.ensure(this.count * 16);
    for (let i = 0; i < this.count; i++) {
      setInt64(mem.view, i * 16, this.#offsets[i]!);
      setInt64(mem.view, i * 16 + 8, this.#lengths[i]!);
    }
    mem.copyTo(vector, this.count * 16);
    this.flushValidity(vector);
    const items = this.child.count;
    duckdb.list_vector_reserve(vector, items);
    duckdb.list_vector_set_size(vector, items);
    if (items > 0) this.child.flush(duckdb.list_vector_get_child(vector));
    else this.child.count = 0;
    this.count = 0;
  }
}

/** STRUCT: a validity mask of its own, a child per field. Keys the struct does not declare make a value lossy. */
class StructBuilder extends Builder {
  readonly #fields: readonly StructField[];
  readonly #children: Builder[];
  readonly #keys: Buffer[];

  /** One builder per declared field, in order. */
  get children(): readonly Builder[] {
    return this.#children;
  }

  readonly #known: Set<string>;
  readonly #seen: Uint8Array;

  constructor(fields: readonly StructField[]) {
    super();
    this.#fields = fields;
    this.#children = fields.map((f) => builderFor(f.type));
    this.#keys = fields.map((f) => Buffer.from(f.key, "utf8"));
    this.#known = new Set(fields.map((f) => f.key));
    this.#seen = new Uint8Array(fields.length);
  }

  null(): void {
    for (const c of this.#children) c.null();
    this.setNull(this.count++);
  }

  js(v: unknown): boolean {
    if (v === undefined || v === null) {
      this.null();
      return true;
    }
    if (typeof v !== "object" || Array.isArray(v)) {
      this.null();
      return false;
    }
    const o = v as Record<string, unknown>;
    let exact = true;
    this.#fields.forEach((f, j) => {
      if (!this.#children[j]!.js(o[f.key])) exact = false;
    });
    for (const k in o) {
      if (!this.#known.has(k)) {
        exact = false;
        break;
      }
    }
    this.count++;
    return exact;
  }

  mp(r: MsgReader): boolean {
    if (r.nil()) {
      this.null();
      return true;
    }
    const n = r.map();
    if (n < 0) {
      r.skip();
      this.null();
      return false;
    }
    let exact = true;
    this.#seen.fill(0);
    let next = 0;
    for (let i = 0; i < n; i++) {
      const ks = r.str();
      const j = ks < 0 ? -1 : matchKey(r.buf, ks, r.len, this.#keys, next);
      if (ks < 0) r.skip();
      if (j < 0 || this.#seen[j] === 1) {
        r.skip();
        exact = false;
        continue;
      }
      this.#seen[j] = 1;
      next = j + 1;
      if (!this.#children[j]!.mp(r)) exact = false;
    }
    for (let j = 0; j < this.#children.length; j++) if (this.#seen[j] === 0) this.#children[j]!.null();
    this.count++;
    return exact;
  }

  override rollback(n: number): void {
    for (const c of this.#children) c.rollback(n);
    super.rollback(n);
  }

  flush(vector: Vector): void {
    this.flushValidity(vector);
    this.#children.forEach((c, j) => c.flush(duckdb.struct_vector_get_child(vector, j)));
    this.count = 0;
  }
}

/** Float32 vectors (embeddings) as FLOAT[]: items copied in one call per chunk. */
export class FloatListBuilder extends Builder {
  #rows: (Float32Array | null)[] = [];

  null(): void {
    this.#rows[this.count++] = null;
  }

  js(v: unknown): boolean {
    if (!(v instanceof Float32Array)) {
      this.null();
      return v === undefined || v === null;
    }
    this.#rows[this.count++] = v;
    return true;
  }

  mp(r: MsgReader): boolean {
    r.skip();
    this.null();
    return false;
  }

  flush(vector: Vector): void {
    const n = this.count;
    const mem = new Memory();
    mem.ensure(n * 16);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = this.#rows[i] ?? null;
      if (v === null) this.setNull(i);
      setInt64(mem.view, i * 16, total);
      setInt64(mem.view, i * 16 + 8, v?.length ?? 0);
      total += v?.length ?? 0;
    }
    mem.copyTo(vector, n * 16);
    this.flushValidity(vector);
    duckdb.list_vector_reserve(vector, total);
    duckdb.list_vector_set_size(vector, total);
    if (total > 0) {
      const items = new Float32Array(total);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const v = this.#rows[i];
        if (v === null || v === undefined) continue;
        items.set(v, off);
        off += v.length;
      }
      duckdb.copy_data_to_vector(duckdb.list_vector_get_child(vector), 0, items.buffer, 0, total * 4);
    }
    this.#rows = [];
    this.count = 0;
  }
}

/** The index of the key at buf[start, start + len) among `keys`, trying `from` first (fields usually come in order); -1 if none. */
export function matchKey(buf: Buffer, start: number, len: number, keys: readonly Buffer[], from: number): number {
  const n = keys.length;
  for (let k = 0; k < n; k++) {
    const j = (from + k) % n;
    const key = keys[j]!;
    if (key.length !== len) continue;
    let same = true;
    for (let b = 0; b < len; b++) {
      if (key[b] !== buf[start + b]) {
        same = false;
        break;
      }
    }
    if (same) return j;
  }
  return -1;
}

/** A builder for a column type. */
export function builderFor(t: ColumnType): Builder {
  switch (t.kind) {
    case "uuid":
      return new UuidBuilder();
    case "varchar":
      return new StringBuilder(false);
    case "json":
      return new StringBuilder(true);
    case "double":
      return new DoubleBuilder();
    case "bigint":
      return new BigIntBuilder();
    case "boolean":
      return new BooleanBuilder();
    case "timestamp":
      return new TimestampBuilder();
    case "date":
      return new DateBuilder();
    case "float":
      return new FloatBuilder();
    case "list":
      return new ListBuilder(builderFor(t.child));
    case "struct":
      return new StructBuilder(t.fields);
  }
}

export { MillisBuilder, StringBuilder, BigIntBuilder, BooleanBuilder, UuidBuilder, FixedBuilder, ListBuilder, StructBuilder };
