import { randomUUID } from "node:crypto";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../events/model/events.js";
import type { JsonObject, JsonValue } from "../../events/model/json-value.js";
import { executeQuery, explainQuery } from "../../src/query/mod.js";
import { projectionFixture, type ProjectionFixture } from "../support/projection-fixture.js";
import { useNatsServer } from "../support/nats-fixture.js";
import { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import { tenantName } from "../../events/model/ids.js";

import { allPages, deleted, registered, upserted } from "./helpers.js";
import { DATE_TEXTS, holds, sortRows, sqlOf, type Kind, type Lit, type OracleRow, type Scalar, type TP } from "./oracle.js";

// ---- the random world -------------------------------------------------------------

/** The user fields of every generated schema; which are indexed is random per run. */
const FIELDS: Readonly<Record<string, Kind>> = { s: "string", s2: "string", i: "integer", x: "number", b: "boolean", d: "date", tags: "tags" };
const FIELD_NAMES = Object.keys(FIELDS);
const SYSTEM: Readonly<Record<string, Kind>> = { id: "string", entity_type: "string", created_at: "date", modified_at: "date", deleted_at: "date" };
const SORTABLE = ["s", "s2", "i", "x", "b", "d", "id", "entity_type", "created_at", "modified_at"];

// Small pools so that values collide (ties, equal matches). Strings include quotes,
// LIKE wildcards as data, and characters whose UTF-16 and code point orders differ.
const STRINGS = ["", "a", "ab", "abc", "b", "B", "é", "a'b", "a%c", "a_c", "ﬁ", "😀", "😀a"];
const INTS = [-2, -1, 0, 1, 2, 3];
const NUMS = [-1.5, 0, 0.25, 1, 2.5, 1000];
const DATES = [...DATE_TEXTS.keys()].filter((d) => d.startsWith("202"));
const EPOCH_2024 = Date.UTC(2024, 0, 1);

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const anyScalar: fc.Arbitrary<Scalar> = fc.oneof(pick(STRINGS), pick(INTS), pick(NUMS), fc.boolean(), pick(DATES), fc.constant("soon"), fc.constant(EPOCH_2024));

/** A value of the field's own type, mostly; sometimes another type (the log does not enforce schemas). */
function valueOf(kind: Kind): fc.Arbitrary<JsonValue> {
  const own: fc.Arbitrary<JsonValue> =
    kind === "string"
      ? pick(STRINGS)
      : kind === "integer"
        ? pick(INTS)
        : kind === "number"
          ? pick(NUMS)
          : kind === "boolean"
            ? fc.boolean()
            : kind === "date"
              ? fc.oneof({ weight: 6, arbitrary: pick(DATES) }, { weight: 1, arbitrary: fc.constant(EPOCH_2024) }, { weight: 1, arbitrary: fc.constant("soon") })
              : fc.array(fc.oneof({ weight: 8, arbitrary: pick<JsonValue>(STRINGS) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: pick<JsonValue>(INTS) }), { maxLength: 3 });
  return fc.oneof({ weight: 8, arbitrary: own }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyScalar });
}

/** Entity data: each field present (any value) or missing. */
const dataArb: fc.Arbitrary<JsonObject> = fc.record(Object.fromEntries(FIELD_NAMES.map((f) => [f, valueOf(FIELDS[f]!)])), { requiredKeys: [] }) as fc.Arbitrary<JsonObject>;

type Op = { op: "upsert"; slot: number; data: JsonObject } | { op: "delete"; slot: number };
const SLOTS = 24;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("upsert" as const), slot: fc.nat(SLOTS - 1), data: dataArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), slot: fc.nat(SLOTS - 1) }) },
);

/** A literal placeholder: a value, or an existing entity's id / created_at (resolved per run). */
type GenLit = { v: Lit } | { idOf: number } | { createdOf: number };

function litFor(col: string): fc.Arbitrary<GenLit> {
  if (col === "id") return fc.oneof(fc.nat(SLOTS - 1).map((s) => ({ idOf: s })), pick<Lit>(["x", "00000000-0000-4000-8000-000000000000", null]).map((v) => ({ v })));
  if (col === "created_at" || col === "modified_at")
    return fc.oneof(fc.nat(SLOTS - 1).map((s) => ({ createdOf: s })), pick<Lit>(["2000-01-01", "2100-01-01", null, 0]).map((v) => ({ v })));
  const kind = FIELDS[col] ?? SYSTEM[col]!;
  const own = kind === "tags" ? valueOf("string") : valueOf(kind);
  return fc
    .oneof({ weight: 4, arbitrary: own.filter((v): v is Scalar | null => !Array.isArray(v)) }, { weight: 2, arbitrary: anyScalar }, { weight: 1, arbitrary: fc.constant(null) })
    .map((v) => ({ v: v as Lit }));
}

/** A predicate with placeholder literals. */
type GenP =
  | { k: "cmp"; col: string; op: "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="; lit: GenLit }
  | { k: "in"; col: string; lits: GenLit[]; neg: boolean }
  | { k: "between"; col: string; lo: GenLit; hi: GenLit; neg: boolean }
  | { k: "like"; col: string; pat: string | null; neg: boolean }
  | { k: "isnull"; col: string; neg: boolean }
  | { k: "and" | "or"; items: GenP[] }
  | { k: "not"; item: GenP };

const colArb = fc.oneof({ weight: 12, arbitrary: pick(FIELD_NAMES) }, { weight: 2, arbitrary: pick(Object.keys(SYSTEM)) }, { weight: 1, arbitrary: fc.constant("id") });
const likePattern = fc.oneof(
  pick(STRINGS).map((s) => `${s}%`), // a prefix: index_prefix when indexed
  pick(STRINGS).map((s) => `%${s}`),
  fc.tuple(pick(STRINGS), pick(STRINGS)).map(([a, b]) => `${a}_${b}%`),
  pick(STRINGS),
  fc.constant("%"),
);

const leafArb: fc.Arbitrary<GenP> = colArb.chain((col): fc.Arbitrary<GenP> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ k: fc.constant("cmp" as const), col: fc.constant(col), op: pick(["=", "=", "!=", "<>", "<", "<=", ">", ">="] as const), lit: litFor(col) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("in" as const), col: fc.constant(col), lits: fc.array(litFor(col), { minLength: 1, maxLength: 4 }), neg: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("between" as const), col: fc.constant(col), lo: litFor(col), hi: litFor(col), neg: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("like" as const), col: fc.constant(col), pat: fc.oneof({ weight: 9, arbitrary: likePattern }, { weight: 1, arbitrary: fc.constant(null) }), neg: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("isnull" as const), col: fc.constant(col), neg: fc.boolean() }) },
  ),
);

const predArb: fc.Arbitrary<GenP> = fc.letrec<{ p: GenP }>((tie) => ({
  p: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: leafArb },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("and" as const), items: fc.array(tie("p"), { minLength: 2, maxLength: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("or" as const), items: fc.array(tie("p"), { minLength: 2, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("not" as const), item: tie("p") }) },
  ),
})).p;

interface GenQuery {
  select: "id" | "star" | "cols" | "count";
  where: GenP | null;
  order: { col: string; desc: boolean }[];
  limit: number | null;
  offset: number;
  pageSize: number;
  minimalParens: boolean;
  quoteCols: boolean;
}

const queryArb: fc.Arbitrary<GenQuery> = fc.record({
  select: pick(["id", "id", "star", "cols", "count"] as const),
  // a leaf among the top-level AND terms is what the planner can use: make it common
  where: fc.option(
    fc.oneof(predArb, leafArb, fc.tuple(leafArb, predArb).map(([a, b]): GenP => ({ k: "and", items: [a, b] }))),
    { freq: 8 },
  ),
  order: fc.oneof({ weight: 3, arbitrary: fc.constant<{ col: string; desc: boolean }[]>([]) }, { weight: 3, arbitrary: fc.array(fc.record({ col: pick(SORTABLE), desc: fc.boolean() }), { minLength: 1, maxLength: 2 }) }),
  limit: fc.option(fc.nat(8), { freq: 2 }),
  offset: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(4) }),
  pageSize: fc.integer({ min: 1, max: 4 }),
  minimalParens: fc.boolean(),
  quoteCols: fc.boolean(),
});

const worldArb = fc.record({
  indexed: fc.subarray(FIELD_NAMES, { minLength: 2 }),
  commits: fc.array(fc.array(opArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
  queries: fc.array(queryArb, { minLength: 1, maxLength: 12 }),
});

// ---- running one world ------------------------------------------------------------

function schemaDefinition(indexed: readonly string[]): JsonObject {
  const prop = (k: Kind): JsonObject =>
    k === "tags" ? { type: "array", items: { type: "string" } } : k === "date" ? { type: "string", format: "date-time" } : { type: k };
  return { type: "object", properties: Object.fromEntries(FIELD_NAMES.map((f) => [f, prop(FIELDS[f]!)])), indexed_fields: [...indexed] };
}

/** A deterministic, unique-per-run, well-spread UUID for a slot. */
function slotId(run: number, slot: number): string {
  const h = createHash("sha256").update(`${run}:${slot}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

let run = 0;

type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

async function checkWorld(fx: ProjectionFixture, world: World): Promise<void> {
  const r = run++;
  const schema = `t${r}`;
  const ids = Array.from({ length: SLOTS }, (_, s) => slotId(r, s));
  await fx.commit([registered(schema, schemaDefinition(world.indexed))]);

  // the oracle's own model of the log: live entities and their data
  const model = new Map<string, JsonObject>();
  for (const commit of world.commits) {
    const events: Event[] = commit.map((op) => (op.op === "upsert" ? upserted(schema, ids[op.slot]!, op.data) : deleted(schema, ids[op.slot]!)));
    await fx.commit(events);
    for (const op of commit) {
      if (op.op === "upsert") model.set(ids[op.slot]!, op.data);
      else model.delete(ids[op.slot]!);
    }
  }
  const rows: OracleRow[] = [...model.entries()].map(([id, data]) => {
    const rec = fx.store.getEntity(id)!; // timestamps come from commits: take them from the store
    const system: Record<string, unknown> = { id, entity_type: schema, created_at: new Date(rec.created_at).toISOString(), modified_at: new Date(rec.modified_at).toISOString(), deleted_at: null };
    return {
      id,
      kindOf: (col) => FIELDS[col] ?? SYSTEM[col]!,
      raw: (col) => (col in system ? system[col] : Object.hasOwn(data, col) ? data[col] : undefined),
    };
  });
  const indexed = new Set(world.indexed);

  const resolve = (l: GenLit): Lit => {
    if ("v" in l) return l.v;
    const rec = fx.store.getEntity(ids["idOf" in l ? l.idOf : l.createdOf]!);
    if ("idOf" in l) return ids[l.idOf]!;
    return rec === undefined ? "2000-01-01" : new Date(rec.created_at).toISOString();
  };
  const concrete = (p: GenP): TP => {
    switch (p.k) {
      case "and":
      case "or":
        return { k: p.k, items: p.items.map(concrete) };
      case "not":
        return { k: "not", item: concrete(p.item) };
      case "cmp":
        return { ...p, lit: resolve(p.lit) };
      case "in":
        return { ...p, lits: p.lits.map(resolve) };
      case "between":
        return { ...p, lo: resolve(p.lo), hi: resolve(p.hi) };
      default:
        return p;
    }
  };

  for (const g of world.queries) {
    const where = g.where === null ? null : concrete(g.where);
    const order = g.select === "count" ? [] : g.order;
    const quote = (c: string) => (g.quoteCols ? `"${c}"` : c);
    const select = g.select === "id" ? "id" : g.select === "star" ? "*" : g.select === "cols" ? "id, s, tags" : "COUNT(*)";
    const sql =
      `SELECT ${select} FROM ${schema}` +
      (where === null ? "" : ` WHERE ${sqlOf(where, quote, g.minimalParens)}`) +
      (order.length === 0 ? "" : ` ORDER BY ${order.map((o) => `${quote(o.col)}${o.desc ? " DESC" : ""}`).join(", ")}`) +
      (g.select === "count" ? "" : `${g.limit === null ? "" : ` LIMIT ${g.limit}`}${g.offset === 0 ? "" : ` OFFSET ${g.offset}`}`);

    const matching = rows.filter((row) => where === null || holds(where, row) === true);
    const ctx = `\n  SQL: ${sql}`;

    if (g.select === "count") {
      const res = await executeQuery(fx.store, sql);
      expect(res.count, `COUNT${ctx}`).toBe(matching.length);
      expect(res.rows, ctx).toEqual([{ count: matching.length }]);
      continue;
    }

    const sortedRows = sortRows(matching, order);
    const expected = sortedRows.slice(g.offset, g.limit === null ? undefined : g.offset + g.limit).map((row) => row.id);
    const res = await executeQuery(fx.store, sql);
    expect(res.rows.map((x) => x.id), `rows${ctx}\n  plan: ${JSON.stringify(res.plan)}`).toEqual(expected);
    expect(res.next_cursor, ctx).toBeNull();
    if (g.select === "star") {
      for (const row of res.rows) {
        const data = model.get(row.id as string)!;
        for (const f of FIELD_NAMES) expect(row[f], ctx).toEqual(data[f]);
      }
    }
    if (g.select === "cols") {
      for (const row of res.rows) {
        const data = model.get(row.id as string)!;
        expect(row, ctx).toEqual({ id: row.id, s: data.s ?? null, tags: data.tags ?? null });
      }
    }

    // keyset pages concatenate to the unpaged result
    const paged = await allPages((cursor) => executeQuery(fx.store, sql, { pageSize: g.pageSize, ...(cursor === undefined ? {} : { cursor }) }));
    expect(paged.rows.map((x) => x.id), `paged by ${g.pageSize}${ctx}`).toEqual(expected);
    expect(paged.pages, ctx).toBe(Math.max(1, Math.ceil(expected.length / g.pageSize)));

    // EXPLAIN: an indexed equality (or an id lookup) among the top-level AND terms gives an index plan;
    // no term on an indexed field (nor id) and no ORDER BY on one gives a scan
    const plan = await explainQuery(fx.store, sql);
    const flat = (t: TP): TP[] => (t.k === "and" ? t.items.flatMap(flat) : [t]);
    const terms = where === null ? [] : flat(where);
    const isId = (t: TP) => (t.k === "cmp" && t.op === "=" && t.col === "id") || (t.k === "in" && !t.neg && t.col === "id");
    const isEq = (t: TP) => t.k === "cmp" && t.op === "=" && indexed.has(t.col) && t.lit !== null;
    if (terms.some(isId)) expect(plan.access, ctx).toBe("id_lookup");
    else if (terms.some(isEq)) expect(plan.access, ctx).toBe("index_eq");
    // (an OR term may become a union of index accesses: it counts when any leaf in it is on an indexed field)
    const leaves = (t: TP): TP[] => (t.k === "and" || t.k === "or" ? t.items.flatMap(leaves) : t.k === "not" ? leaves(t.item) : [t]);
    const touchesIndex = terms.flatMap(leaves).some((t) => "col" in t && (indexed.has(t.col) || t.col === "id"));
    if (!touchesIndex && !(order[0] !== undefined && indexed.has(order[0].col))) expect(plan.access, ctx).toBe("scan");
  }
}

/** The same property over each log backend: the projections (and so the queries) must not depend on it. */
function describeQueryProperty(name: string, open: () => Promise<ProjectionFixture>, runs: number): void {
  describe(`query engine = naive filter (property, ${name})`, () => {
    let fx: ProjectionFixture;
    beforeAll(async () => {
      fx = await open();
    });
    afterAll(async () => {
      await fx.close();
    });
    it("rows, COUNT, ORDER BY/LIMIT/OFFSET and cursor pages match an independent model", async () => {
      await fc.assert(
        fc.asyncProperty(worldArb, async (world) => {
          await checkWorld(fx, world);
        }),
        { numRuns: runs },
      );
    });
  });
}

const nats = useNatsServer();

describeQueryProperty("embedded file log", () => projectionFixture(), Number(process.env.QUERY_PROPERTY_RUNS ?? 150));
describeQueryProperty(
  "NATS JetStream",
  () => projectionFixture({ backend: async () => JetStreamLog.open({ nc: nats.nc, tenant: tenantName(`q${randomUUID().slice(0, 8)}`), create: true }) }),
  Number(process.env.QUERY_PROPERTY_RUNS ?? 50),
);
