import { randomUUID } from "node:crypto";
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
