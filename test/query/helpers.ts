import { randomUUID } from "node:crypto";
import type { Event } from "../../events/model/events.js";
import type { JsonObject } from "../../events/model/json-value.js";
import { isRemError, type ErrorCode } from "../../src/errors.js";
import { executeQuery, explainQuery, type QueryOptions, type QueryResult } from "../../src/query/mod.js";
import type { Plan } from "../../src/query/mod.js";
import { projectionFixture, type ProjectionFixture } from "../support/projection-fixture.js";

/** Event helpers: the writer fills `v` and the event id. */
export const registered = (name: string, definition: JsonObject): Event => ({ type: "schema.registered", v: 1, id: randomUUID(), name, definition });
export const upserted = (schema: string, entity_id: string, data: JsonObject): Event => ({ type: "entity.upserted", v: 1, id: randomUUID(), entity_id, schema, data });
export const deleted = (schema: string, entity_id: string): Event => ({ type: "entity.deleted", v: 1, id: randomUUID(), entity_id, schema });

/** A store with one schema and a few helpers around it. */
export interface QueryFixture {
  readonly fx: ProjectionFixture;
  /** upserts entities (one commit), returns their ids in order */
  insert(...rows: JsonObject[]): Promise<string[]>;
  query(sql: string, options?: QueryOptions): Promise<QueryResult>;
  explain(sql: string): Promise<Plan>;
  close(): Promise<void>;
}

export async function queryFixture(schema: string, definition: JsonObject): Promise<QueryFixture> {
  const fx = await projectionFixture();
  await fx.commit([registered(schema, definition)]);
  return {
    fx,
    async insert(...rows) {
      const ids = rows.map(() => randomUUID());
      await fx.commit(rows.map((r, i) => upserted(schema, ids[i]!, r)));
      return ids;
    },
    query: (sql, options) => executeQuery(fx.store, sql, options),
    explain: (sql) => explainQuery(fx.store, sql),
    close: () => fx.close(),
  };
}

/** The error a promise rejects with; fails when it resolves or rejects with something that is not a RemError of `code`. */
export async function rejection(p: Promise<unknown>, code: ErrorCode): Promise<Error & { code: ErrorCode; details: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (isRemError(err, code)) return err as Error & { code: ErrorCode; details: Record<string, unknown> };
    throw new Error(`expected ${code}, got ${String((err as { code?: string }).code)}: ${(err as Error).message}`);
  }
  throw new Error(`expected ${code}, but the query succeeded`);
}

/** Every page of a query, following cursors. */
export async function allPages(run: (cursor?: string) => Promise<QueryResult>): Promise<{ rows: JsonObject[]; pages: number }> {
  const rows: JsonObject[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const r = await run(cursor);
    pages++;
    rows.push(...r.rows);
    if (r.next_cursor === null) return { rows, pages };
    cursor = r.next_cursor;
    if (pages > 10_000) throw new Error("paging does not end");
  }
}
