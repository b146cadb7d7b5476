import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, serverFixture, type ServerFixture } from "../support/server-fixture.js";

const NOTES = { title: "notes", type: "object", properties: { text: { type: "string" } }, json_schema_extra: { name: "notes" } };

function upsert(text: string, id: string = randomUUID()) {
  return { type: "entity.upserted", id, entity_id: randomUUID(), schema: "notes", data: { text } };
}

/** Reads an SSE response until `want` commit events arrived; returns them and the raw ids. */
async function readSse(res: Response, want: number): Promise<{ id: number; data: { seq: number; events: { type: string }[] } }[]> {
  const out: { id: number; data: { seq: number; events: { type: string }[] } }[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  while (out.length < want) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let end: number;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const lines = block.split("\n");
      const id = lines.find((l) => l.startsWith("id: "));
      const data = lines.find((l) => l.startsWith("data: "));
      if (id !== undefined && data !== undefined && lines.includes("event: commit")) out.push({ id: Number(id.slice(4)), data: JSON.parse(data.slice(6)) });
    }
  }
  await reader.cancel();
  return out;
}

describe("the log over HTTP", () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
    expect((await fx.call("POST", "/api/v1/schemas", { body: NOTES })).status).toBe(201);
  });
  afterAll(async () => fx?.close());

  it("appends a batch as one commit and returns {seq, ids} once durable; the entities are readable at once", async () => {
    const evs = [upsert("one"), upsert("two")];
    const r = await fx.call("POST", "/api/v1/events", { body: { events: evs } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ ids: evs.map((e) => e.id), duplicate: false });
    const read = await fx.call("GET", `/api/v1/events?from=${r.json.seq}&limit=10`);
    expect(read.json.commits).toHaveLength(1);
    expect(read.json.commits[0].events.map((e: { id: string }) => e.id)).toEqual(evs.map((e) => e.id));
    const got = await fx.call("GET", `/api/v1/entities/${evs[1]!.entity_id}`);
    expect(got.json.text).toBe("two");
  });

  it("a retry of the same batch (same event ids) is recognised: same seq, nothing appended twice", async () => {
    const evs = [upsert("retry a"), upsert("retry b")];
    const first = await fx.call("POST", "/api/v1/events", { body: { events: evs } });
    const head = first.json.seq as number;
    const again = await fx.call("POST", "/api/v1/events", { body: { events: evs } });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ seq: head, duplicate: true, commit_id: first.json.commit_id });
    const withExpected = await fx.call("POST", "/api/v1/events", { body: { events: evs, expected_seq: head - 1 } });
    expect(withExpected.json).toMatchObject({ seq: head, duplicate: true });
    const log = await fx.call("GET", `/api/v1/events?from=${head}`);
    expect(log.json.head).toBe(head);
  });

  it("a stale expected_seq is 409 with the current sequence; the right one appends", async () => {
    const head = (await fx.call("GET", "/api/v1/events?from=1&limit=1")).json.head as number;
    const stale = await fx.call("POST", "/api/v1/events", { body: { events: [upsert("late")], expected_seq: head - 1 } });
    expect(stale.status).toBe(409);
    expect(stale.contentType).toContain("application/problem+json");
    expect(stale.json.code).toBe("REM_ERR_LOG_CONFLICT");
    expect(stale.json.details).toMatchObject({ expectedSeq: head - 1, actualSeq: head });
    const ok = await fx.call("POST", "/api/v1/events", { body: { events: [upsert("on time")], expected_seq: head } });
    expect(ok.status).toBe(201);
    expect(ok.json.seq).toBe(head + 1);
  });

  it("bad events are 400 naming the event and field, and nothing is appended", async () => {
    const head = (await fx.call("GET", "/api/v1/events?from=1&limit=1")).json.head as number;
    const cases: [unknown, string, number][] = [
      [{ events: [upsert("fine"), { type: "entity.exploded" }] }, "events[1]", 400],
      [{ events: [{ ...upsert("x"), schema: "nope" }] }, "events[0]", 404],
      [{ events: [{ ...upsert("x"), data: { text: 5 } }] }, "events[0].data", 422],
      [{ events: [{ type: "schema.registered", name: "bad", definition: { type: "object", json_schema_extra: { name: "bad", indexed_fields: ["missing"] } } }] }, "events[0].definition", 400],
      [{ events: [] }, "events", 400],
      [{ events: [upsert("x")], expected_seq: -1 }, "expected_seq", 400],
    ];
    for (const [body, where, status] of cases) {
      const r = await fx.call("POST", "/api/v1/events", { body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.detail, JSON.stringify(body)).toContain(where);
    }
    expect((await fx.call("GET", "/api/v1/events?from=1&limit=1")).json.head).toBe(head);
  });

  it("reads pages of commits with next", async () => {
    const head = (await fx.call("GET", "/api/v1/events?from=1&limit=1")).json.head as number;
    const p1 = await fx.call("GET", "/api/v1/events?from=1&limit=2");
    expect(p1.json.commits.map((c: { seq: number }) => c.seq)).toEqual([1, 2]);
    expect(p1.json.next).toBe(3);
    const last = await fx.call("GET", `/api/v1/events?from=${head}&limit=5`);
    expect(last.json.next).toBeNull();
    expect((await fx.call("GET", `/api/v1/events?from=${head + 10}`)).json.commits).toEqual([]);
  });

  it("SSE follows commits appended after it connected, and resumes after Last-Event-ID", async () => {
    const head = (await fx.call("GET", "/api/v1/events?from=1&limit=1")).json.head as number;
    const ctl = new AbortController();
    const res = await fetch(`${fx.url}/api/v1/events?from=${head + 1}`, { headers: { authorization: `Bearer ${ADMIN}`, "x-tenant-id": "acme", accept: "text/event-stream" }, signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const got = readSse(res, 3);
    const appended: number[] = [];
    for (const t of ["live 1", "live 2", "live 3"]) appended.push((await fx.call("POST", "/api/v1/events", { body: { events: [upsert(t)] } })).json.seq);
    const events = await got;
    ctl.abort();
    expect(events.map((e) => e.id)).toEqual(appended);
    expect(events.map((e) => e.data.seq)).toEqual(appended);

    // Reconnect as an EventSource would: Last-Event-ID = the last id seen, more commits meanwhile.
    const more = (await fx.call("POST", "/api/v1/events", { body: { events: [upsert("while away")] } })).json.seq as number;
    const ctl2 = new AbortController();
    const res2 = await fetch(`${fx.url}/api/v1/events`, { headers: { authorization: `Bearer ${ADMIN}`, "x-tenant-id": "acme", accept: "text/event-stream", "last-event-id": String(appended[1]) }, signal: ctl2.signal });
    const resumed = await readSse(res2, 2);
    ctl2.abort();
    expect(resumed.map((e) => e.id)).toEqual([appended[2], more]);
  });

  it("SSE needs read access to the tenant and a numeric Last-Event-ID", async () => {
    const anon = await fetch(`${fx.url}/api/v1/events`, { headers: { "x-tenant-id": "acme", accept: "text/event-stream" } });
    expect(anon.status).toBe(401);
    const bad = await fetch(`${fx.url}/api/v1/events`, { headers: { authorization: `Bearer ${ADMIN}`, "x-tenant-id": "acme", accept: "text/event-stream", "last-event-id": "abc" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe("REM_ERR_INVALID_ARGUMENT");
  });
});
