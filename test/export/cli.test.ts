import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rem } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

let root: { path: string; cleanup(): Promise<void> };
beforeAll(async () => {
  root = await tempDir("rem-cli-export-");
});
afterAll(() => root.cleanup());

const n = (args: string[], input?: string) => rem(args, { env: { REM_DATA: join(root.path, "node"), REM_PASSPHRASE: "export passphrase" }, input });

const EVENTS = {
  name: "events",
  type: "object",
  properties: {
    kind: { type: "string" },
    amount: { type: "number" },
    at: { type: "string", format: "date-time" },
    user: { type: "string" },
  },
  indexed_fields: ["kind"],
};
const USERS = { name: "users", type: "object", properties: { name: { type: "string" }, team: { type: "string" } }, key_field: "name" };

const KINDS = ["click", "view", "buy", "share"];
const rows = Array.from({ length: 300 }, (_, i) => ({ kind: KINDS[(i * 7) % 4]!, amount: ((i * 37) % 101) / 4, at: new Date(Date.UTC(2025, i % 12, 1 + (i % 28))).toISOString(), user: `u${i % 9}` }));
const users = Array.from({ length: 9 }, (_, i) => ({ name: `u${i}`, team: i % 2 === 0 ? "red" : "blue" }));

describe("rem export and rem sql (the real CLI)", () => {
  it("sets up a tenant with two schemas", async () => {
    expect((await n(["init", "--kdf-cost", "12"])).code).toBe(0);
    await writeFile(join(root.path, "events.json"), JSON.stringify(EVENTS));
    await writeFile(join(root.path, "users.json"), JSON.stringify(USERS));
    expect((await n(["schema", "add", join(root.path, "events.json")])).code).toBe(0);
    expect((await n(["schema", "add", join(root.path, "users.json")])).code).toBe(0);
    expect((await n(["insert", "events", "--batch"], rows.map((r) => JSON.stringify(r)).join("\n"))).code).toBe(0);
    expect((await n(["insert", "users", "--batch"], users.map((r) => JSON.stringify(r)).join("\n"))).code).toBe(0);
  });

  it("counts per kind equal `rem query` and a naive count", async () => {
    const r = await n(["sql", "SELECT kind, count(*) AS n FROM events GROUP BY kind ORDER BY kind"]);
    expect(r.code).toBe(0);
    const naive = new Map<string, number>();
    for (const row of rows) naive.set(row.kind, (naive.get(row.kind) ?? 0) + 1);
    expect(r.json).toEqual([...naive].sort(([a], [b]) => a.localeCompare(b)).map(([kind, count]) => ({ kind, n: count })));
    for (const kind of KINDS) {
      const q = await n(["query", `SELECT COUNT(*) FROM events WHERE kind = '${kind}'`]);
      expect((r.json as { kind: string; n: number }[]).find((x) => x.kind === kind)?.n).toBe((q.json as { count: number }[])[0]!.count);
    }
  });

  it("aggregates and joins across schemas like a naive computation", async () => {
    const r = await n(["sql", "SELECT u.team, round(sum(e.amount), 6) AS total, count(*) AS n, max(e.at) AS last FROM events e JOIN users u ON u.name = e.user GROUP BY u.team ORDER BY u.team"]);
    expect(r.code).toBe(0);
    const teams = new Map<string, { total: number; n: number; last: string }>();
    for (const row of rows) {
      const team = users.find((u) => u.name === row.user)!.team;
      const t = teams.get(team) ?? { total: 0, n: 0, last: "" };
      teams.set(team, { total: t.total + row.amount, n: t.n + 1, last: row.at > t.last ? row.at : t.last });
    }
    expect(r.json).toEqual(
      [...teams]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([team, t]) => ({ team, total: Math.round(t.total * 1e6) / 1e6, n: t.n, last: t.last })),
    );
  });

  it("sees a delete at once (the export catches up before the query)", async () => {
    const q = await n(["query", "SELECT id FROM events WHERE kind = 'buy' LIMIT 1"]);
    const id = (q.json as { id: string }[])[0]!.id;
    expect((await n(["delete", id])).code).toBe(0);
    const r = await n(["sql", "SELECT count(*) AS n FROM events WHERE kind = 'buy'"]);
    expect(r.json).toEqual([{ n: rows.filter((x) => x.kind === "buy").length - 1 }]);
  });

  it("prints csv and table formats", async () => {
    const csv = await n(["sql", "SELECT name, team FROM users WHERE name IN ('u0', 'u1') ORDER BY name", "--format", "csv"]);
    expect(csv.stdout).toBe("name,team\r\nu0,red\r\nu1,blue\r\n");
    const table = await n(["sql", "SELECT name FROM users ORDER BY name LIMIT 2", "--format", "table"]);
    expect(table.stdout).toContain("| name |");
    expect(table.stdout).toContain("| u1   |");
    expect(table.stdout.trimEnd().endsWith("2 rows")).toBe(true);
    const bad = await n(["sql", "SELECT 1", "--format", "xml"]);
    expect(bad.error?.code).toBe("REM_ERR_INVALID_ARGUMENT");
  });

  it("refuses reads outside the exports, attaching and writing, with the code on stderr", async () => {
    for (const [sql, statement] of [
      ["SELECT * FROM read_csv('/etc/passwd')", undefined],
      ["ATTACH '/tmp/x.db' AS x", "ATTACH"],
      [`COPY (SELECT 1) TO '${join(root.path, "leak.csv")}'`, "COPY"],
    ] as const) {
      const r = await n(["sql", sql]);
      expect(r.code).toBe(1);
      expect(r.error?.code).toBe("REM_ERR_SQL_REFUSED");
      if (statement !== undefined) expect(r.error?.details.statement).toBe(statement);
      else expect(r.error?.details.duckdb).toBe("permission");
    }
    expect(existsSync(join(root.path, "leak.csv"))).toBe(false);
    expect(existsSync("/tmp/x.db")).toBe(false);
  });

  it("exports one ZSTD Parquet file per schema with --output", async () => {
    const out = join(root.path, "out");
    const r = await n(["export", "--all", "--output", out]);
    expect(r.code).toBe(0);
    const report = r.json as { seq: number; output: { schema: string; path: string; rows: number }[]; schemas: { name: string }[] };
    expect(report.output.map((o) => o.schema).sort()).toEqual(["_edges", "events", "messages", "moments", "sessions", "users"]);
    expect(report.output.find((o) => o.schema === "events")!.rows).toBe(rows.length - 1);
    const db = await DuckDBInstance.create(":memory:");
    try {
      const c = await db.connect();
      const file = join(out, "events.parquet");
      const count = await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}')`);
      expect(Number(count.getRows()[0]![0])).toBe(rows.length - 1);
      const codecs = await c.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
      expect(codecs.getRows().map((x) => x[0])).toEqual(["ZSTD"]);
      c.closeSync();
    } finally {
      db.closeSync();
    }
    const one = await n(["export", "users", "--output", out]);
    expect((one.json as { output: { schema: string }[] }).output.map((o) => o.schema)).toEqual(["users"]);
    expect((await n(["export", "--output", out])).error?.code).toBe("REM_ERR_INVALID_ARGUMENT");
    expect((await n(["export", "nope"])).error?.code).toBe("REM_ERR_SCHEMA_NOT_FOUND");
  });

  it("reports the export's state and rebuilds it on request with the same answers", async () => {
    const before = await n(["sql", "SELECT * FROM events ORDER BY id"]);
    const r = await n(["export", "--rebuild"]);
    expect(r.json).toMatchObject({ catch_up: { mode: "full" } });
    const after = await n(["sql", "SELECT * FROM events ORDER BY id"]);
    expect(after.json).toEqual(before.json);
  });
});
