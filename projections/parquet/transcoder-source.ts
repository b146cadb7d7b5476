import type { ColumnType } from "./columns.js";

/**
 * The JavaScript source of a transcoder for one export plan (transcoder.ts
 * compiles it): a function that reads one stored entity record (MessagePack)
 * and writes its values into the column builders, with every field's key match
 * and value decoding spelled out for its column type. Same semantics as
 * `RowBuilder.addEncoded` (rows.ts, builders.ts), which stays the reference:
 * a property test checks both write the same rows.
 *
 * Why generated: in the generic path every value goes through builder methods
 * shared by all column types, so V8 sees megamorphic calls and cannot inline;
 * here each call site sees one type. The source holds only identifiers and
 * numbers: field names reach it as byte values, and as data (`names`) for `_extra`.
 */

/** Hands out the generated code's local names (unique, so nested values never shadow each other). */
export class SourceWriter {
  #n = 0;

  /** A fresh identifier. */
  id(prefix: string): string {
    return `${prefix}${this.#n++}`;
  }
}

/** A field or struct key to match: its UTF-8 bytes and the code that handles its value (`continue`s the entry loop when matched). */
interface KeyCase {
  readonly bytes: Uint8Array;
  readonly seen: string;
  readonly body: string;
}

/**
 * A `switch` on the key's byte length, then byte comparisons: the matched key's
 * case runs `body` once (a second occurrence of a key falls through to
 * `otherwise`, as the reference treats it).
 */
export function keySwitch(keys: readonly KeyCase[], ks: string, len: string, loop: string): string {
  const byLen = new Map<number, KeyCase[]>();
  for (const k of keys) {
    const list = byLen.get(k.bytes.length) ?? [];
    list.push(k);
    byLen.set(k.bytes.length, list);
  }
  const cases = [...byLen].map(([n, list]) => {
    const tests = list.map((k) => `if (${bytesEqual(k.bytes, ks)} && !${k.seen}) { ${k.seen} = true; ${k.body} continue ${loop}; }`).join("\n");
    return `case ${n}: {\n${tests}\nbreak;\n}`;
  });
  return `switch (${len}) {\n${cases.join("\n")}\n}`;
}

/** A comparison of buf[at…] with constant bytes: unrolled when short, through `eq` (a runtime helper) when long. */
function bytesEqual(bytes: Uint8Array, at: string): string {
  if (bytes.length === 0) return "true";
  if (bytes.length > 24) return `eq(buf, ${at}, [${[...bytes].join(",")}])`;
  return [...bytes].map((b, k) => `buf[${at}${k === 0 ? "" : ` + ${k}`}] === ${b}`).join(" && ");
}

/**
 * Code that decodes the value under the reader `r` into builder `b` (a
 * variable naming the column's builder) and sets `ok = false` when the value is
 * not represented exactly — what `Builder.mp` returns. `child(b, k)` names the
 * variable of a nested builder (list item, struct field k).
 */
export function valueCode(t: ColumnType, b: string, ok: string, w: SourceWriter, child: (b: string, k: number) => string): string {
  switch (t.kind) {
    case "double":
      return fixed(b, 8, ok, w, (o, fit) => `const v = r.number(); if (v !== undefined) { ${mem(b)}.view.setFloat64(${o}, v, true); ${fit} = 0; }`);
    case "bigint":
      return fixed(b, 8, ok, w, (o, fit) => `const v = r.number(); if (v !== undefined && Number.isInteger(v) && v < MAX_I64 && v >= -MAX_I64) { setInt64(${mem(b)}.view, ${o}, v); ${fit} = 0; }`);
    case "boolean":
      return fixed(b, 1, ok, w, (o, fit) => `const v = r.bool(); if (v !== undefined) { ${mem(b)}.u8[${o}] = v ? 1 : 0; ${fit} = 0; }`);
    case "timestamp":
      return fixed(b, 8, ok, w, (o, fit) => `const s = r.str(); if (s >= 0 && parseTimestampBytes(buf, s, r.len, ts)) { if (Number.isSafeInteger(ts.micros)) setInt64(${mem(b)}.view, ${o}, ts.micros); else ${mem(b)}.view.setBigInt64(${o}, BigInt(ts.seconds) * 1000000n + BigInt(ts.fraction), true); ${fit} = ts.exact ? 0 : 1; }`);
    case "date":
      return fixed(b, 4, ok, w, (o, fit) => `const s = r.str(); if (s >= 0) { const d = parseDateBytes(buf, s, r.len); if (d !== null) { ${mem(b)}.view.setInt32(${o}, d, true); ${fit} = 0; } }`);
    case "uuid":
      return fixed(b, 16, ok, w, (o, fit) => `const s = r.str(); if (s >= 0 && r.len === 36 && setUuidBytes(${mem(b)}.u8, ${o}, buf, s)) ${fit} = 0;`);
    case "varchar":
      return varchar(b, ok, w);
    case "json":
      // Rare and already generic (JSON.stringify): the builder's own path.
      return `if (!${b}.mp(r)) ${ok} = false;`;
    case "list":
      return list(t.child, b, ok, w, child);
    case "struct":
      return struct(t.fields.map((f) => ({ key: f.key, type: f.type })), b, ok, w, child);
    case "float":
      throw new Error("FLOAT columns (embeddings) are not read from stored records");
  }
}

/** The system time columns: ms since the epoch (`MillisBuilder`). */
export function millisCode(b: string, w: SourceWriter): string {
  return fixed(b, 8, "_", w, (o, fit) => `const v = r.number(); if (v !== undefined && Number.isFinite(v)) { setInt64(${mem(b)}.view, ${o}, Math.round(v * 1000)); ${fit} = 0; }`);
}

/** The id column (`UuidBuilder`), exactness not needed. */
export function uuidCode(b: string, w: SourceWriter): string {
  return valueCode({ kind: "uuid" }, b, "_", w, () => "");
}

/**
 * The variable holding builder `b`'s Memory (transcoder.ts binds it once:
 * growing replaces the Memory's buffers, never the Memory), so the generated
 * code reads no builder field per value.
 */
export function mem(b: string): string {
  return `m_${b}`;
}

/** `FixedBuilder.mp`: NULL for nil; otherwise a slot of `width` bytes, the type's write, the value consumed even when of another type, NULL when it did not fit. */
function fixed(b: string, width: number, ok: string, w: SourceWriter, put: (o: string, fit: string) => string): string {
  const o = w.id("o");
  const at = w.id("at");
  const fit = w.id("fit");
  const lossy = ok === "_" ? "" : ` if (${fit} !== 0) ${ok} = false;`;
  return `if (buf[r.pos] === 0xc0) { r.pos++; ${b}.null(); } else {
const ${o} = ${b}.count * ${width}; ${mem(b)}.ensure(${o} + ${width}); const ${at} = r.pos; let ${fit} = 2;
{ ${put(o, fit)} }
if (r.pos === ${at}) r.skip();
if (${fit} === 2) ${b}.setNull(${b}.count);
${b}.count++;${lossy}
}`;
}

/** `StringBuilder.mp` (VARCHAR): inline strings laid out in the slot, longer ones kept as views of the record. */
function varchar(b: string, ok: string, w: SourceWriter): string {
  const at = w.id("at");
  const s = w.id("s");
  const len = w.id("len");
  const o = w.id("o");
  return `if (buf[r.pos] === 0xc0) { r.pos++; ${b}.null(); } else {
const ${at} = r.pos; const ${s} = r.str();
if (${s} < 0) { r.skip(); ${b}.null(); ${ok} = false; }
else {
  const ${len} = r.len;
  if (!r.utf8(${s}, ${len})) ${b}.text(unpack(buf.subarray(${at}, r.pos)));
  else {
    const ${o} = ${b}.slot();
    if (${len} <= 12) { const m = ${mem(b)}; m.u32[${o} >> 2] = ${len}; const u8 = m.u8; for (let k = 0; k < ${len}; k++) u8[${o} + 4 + k] = buf[${s} + k]; }
    else ${b}.long(new Uint8Array(buf.buffer, buf.byteOffset + ${s}, ${len}));
    ${b}.count++;
  }
}
}`;
}

/** `ListBuilder.mp`: the items into the child builder, then the row's (offset, length). */
function list(item: ColumnType, b: string, ok: string, w: SourceWriter, child: (b: string, k: number) => string): string {
  const n = w.id("n");
  const start = w.id("start");
  const i = w.id("i");
  const c = child(b, 0);
  return `if (buf[r.pos] === 0xc0) { r.pos++; ${b}.null(); } else {
const ${n} = r.array();
if (${n} < 0) { r.skip(); ${b}.null(); ${ok} = false; }
else {
  const ${start} = ${c}.count;
  for (let ${i} = 0; ${i} < ${n}; ${i}++) { ${valueCode(item, c, ok, w, child)} }
  ${b}.row(${start}, ${n});
}
}`;
}

const encoder = new TextEncoder();

/** `StructBuilder.mp`: declared keys into their children (missing ones NULL); another key, or a key twice, makes the value lossy. */
function struct(fields: readonly { key: string; type: ColumnType }[], b: string, ok: string, w: SourceWriter, child: (b: string, k: number) => string): string {
  const n = w.id("n");
  const loop = w.id("L");
  const i = w.id("i");
  const ks = w.id("ks");
  const seen = fields.map(() => w.id("seen"));
  const cases: KeyCase[] = fields.map((f, k) => ({ bytes: encoder.encode(f.key), seen: seen[k]!, body: valueCode(f.type, child(b, k), ok, w, child) }));
  return `if (buf[r.pos] === 0xc0) { r.pos++; ${b}.null(); } else {
const ${n} = r.map();
if (${n} < 0) { r.skip(); ${b}.null(); ${ok} = false; }
else {
  ${seen.map((x) => `let ${x} = false;`).join(" ")}
  ${loop}: for (let ${i} = 0; ${i} < ${n}; ${i}++) {
    const ${ks} = r.str();
    if (${ks} < 0) { r.skip(); r.skip(); ${ok} = false; continue; }
    ${keySwitch(cases, ks, "r.len", loop)}
    r.skip(); ${ok} = false;
  }
  ${fields.map((_, k) => `if (!${seen[k]}) ${child(b, k)}.null();`).join(" ")}
  ${b}.count++;
}
}`;
}
