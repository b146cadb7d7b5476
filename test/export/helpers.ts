import { randomUUID } from "node:crypto";
import { DuckDBDataChunk, type DuckDBInstance } from "@duckdb/node-api";
import { ident, sqlType, stagingColumns, type ExportPlan } from "../../projections/parquet/columns.js";
import { RowBuilder } from "../../projections/parquet/rows.js";
import { toJson } from "../../src/sql/results.js";
import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { isRemError, type ErrorCode } from "../../src/errors.js";
import type { Tenant } from "../../src/node/tenant.js";
import { analyticsOf, type TenantAnalytics } from "../../src/sql/analytics.js";
import type { TenantFixture } from "../support/tenant-fixture.js";

export const upsertEvent = (schema: string, entity_id: string, data: JsonObject): Event => ({ type: "entity.upserted", v: 1, id: randomUUID(), entity_id, schema, data });

/** Appends raw events (no validation against schemas, as `rem log append` may) and applies them. */
export async function appendRaw(t: Tenant, events: Event[]): Promise<number> {
  const r = await t.log.append(events);
  await t.sync(r.seq);
  return r.seq;
}

export function analytics(fx: TenantFixture): TenantAnalytics {
  return analyticsOf(fx.tenant, fx.dir);
}

/** Rows of a `rem sql` query on the fixture's tenant. */
export async function sql(fx: TenantFixture, text: string): Promise<JsonObject[]> {
  return (await analytics(fx).sql(text)).rows;
}

/** The RemError a promise rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>, code: ErrorCode): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (isRemError(err, code)) return { code: err.code, message: err.message, details: err.details };
    throw new Error(`expected ${code}, got ${String(err)}`, { cause: err });
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

/**
 * Rows a RowBuilder filled by `fill` produces once appended to a DuckDB table
 * of the plan's staging columns, read back as JSON in `_seq` order.
 */
export async function builtRows(db: DuckDBInstance, plan: ExportPlan, table: string, fill: (b: RowBuilder) => void): Promise<JsonObject[]> {
  const c = await db.connect();
  try {
    const cols = stagingColumns(plan);
    await c.run(`CREATE OR REPLACE TABLE ${table} (${cols.map((x) => `${ident(x.name)} ${sqlType(x.type)}`).join(", ")})`);
    const app = await c.createAppender(table);
    const b = new RowBuilder(plan);
    fill(b);
    const chunk = DuckDBDataChunk.create(cols.map((_, i) => app.columnType(i)));
    b.fill(chunk);
    app.appendDataChunk(chunk);
    app.closeSync();
    const r = await c.runAndReadAll(`SELECT * FROM ${table} ORDER BY _seq`);
    const types = r.columnTypes();
    const names = r.columnNames();
    return r.getRows().map((row) => Object.fromEntries(row.map((v, k) => [names[k]!, toJson(v, types[k])])));
  } finally {
    c.closeSync();
  }
}
