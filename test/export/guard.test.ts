import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertEntities, registerSchema } from "../../src/node/writes.js";
import { tenantFixture, type TenantFixture } from "../support/tenant-fixture.js";
import { analytics, rejection, sql } from "./helpers.js";

/**
 * `rem sql` must never reach files, databases, extensions or settings outside
 * the tenant's export directory. Each attempt runs against the real engine and
 * must fail with the right code for the right reason (the statement guard, or
 * DuckDB's own sandbox: "Permission Error").
 */
describe("rem sql sandbox", () => {
  let fx: TenantFixture;
  let exportsDir: string;
  let outside: string;

  beforeAll(async () => {
    fx = await tenantFixture();
    await registerSchema(fx.tenant, { name: "notes", type: "object", properties: { title: { type: "string" } } });
    await insertEntities(fx.tenant, "notes", [{ title: "a" }, { title: "b" }]);
    await analytics(fx).catchUp();
    exportsDir = analytics(fx).exports.dir;
    // Real files just outside the export directory: reading them must still be refused.
    await writeFile(join(fx.dir, "outside.csv"), "secret\n42\n");
    outside = join(exportsDir, "notes", (await readdir(join(exportsDir, "notes")))[0]!).replace("/exports/", "/exports/../exports-copy/");
  });
  afterAll(() => fx.close());

  const refused = (text: string) => rejection(analytics(fx).sql(text), "REM_ERR_SQL_REFUSED");

  it("reads the schemas' views", async () => {
    expect(await sql(fx, "SELECT count(*) AS n FROM notes")).toEqual([{ n: 2 }]);
    expect(await sql(fx, "WITH t AS (SELECT title FROM notes) SELECT title FROM t ORDER BY title")).toEqual([{ title: "a" }, { title: "b" }]);
    expect((await sql(fx, "DESCRIBE notes")).map((r) => r.column_name)).toContain("title");
    expect((await sql(fx, "EXPLAIN SELECT * FROM notes")).length).toBeGreaterThan(0);
    expect(await sql(fx, "/* leading comment */ -- and another\n FROM notes SELECT count(*) AS n")).toEqual([{ n: 2 }]);
  });

  it("refuses to read /etc/passwd, whatever the function", async () => {
    for (const q of ["SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_text('/etc/passwd')", "SELECT * FROM read_blob('/etc/passwd')", "SELECT * FROM read_json_auto('/etc/passwd')", "SELECT * FROM sniff_csv('/etc/passwd')", "SELECT * FROM glob('/etc/*')"]) {
      const e = await refused(q);
      expect(e.details.duckdb).toBe("permission");
      expect(e.message).toMatch(/Permission Error/);
    }
  });

  it("refuses files next to the export directory, also through ..", async () => {
    for (const q of [`SELECT * FROM read_csv('${join(fx.dir, "outside.csv")}')`, `SELECT * FROM read_csv('${exportsDir}/../../../../outside.csv')`, `SELECT * FROM read_parquet('${outside}')`]) {
      const e = await refused(q);
      expect(e.details.duckdb).toBe("permission");
    }
  });

  it("refuses the network", async () => {
    const e = await refused("SELECT * FROM read_parquet('https://example.com/data.parquet')");
    expect(e.details.duckdb).toBe("permission");
  });

  it("refuses to attach databases, even inside the export directory", async () => {
    for (const q of [`ATTACH '${exportsDir}/x.db' AS x`, "ATTACH ':memory:' AS m", "DETACH memory", "USE memory"]) {
      const e = await refused(q);
      expect(e.details.statement).toMatch(/^(ATTACH|DETACH|USE)$/);
    }
    expect(existsSync(join(exportsDir, "x.db"))).toBe(false);
  });

  it("refuses to write files, even inside the export directory", async () => {
    const target = join(exportsDir, "written.csv");
    for (const q of [`COPY (SELECT 1) TO '${target}'`, `COPY notes TO '${target}'`, `EXPORT DATABASE '${exportsDir}/dump'`, `  /* hidden */ COPY (SELECT 1) TO '${target}'`]) {
      const e = await refused(q);
      expect(e.details.statement).toMatch(/^(COPY|EXPORT)$/);
    }
    // EXPLAIN ANALYZE would run the COPY: the explained statement is checked too.
    const e = await refused(`EXPLAIN ANALYZE COPY (SELECT 1) TO '${target}'`);
    expect(e.details.statement).toBe("COPY");
    // query() runs only SELECTs: DuckDB refuses the COPY before running anything.
    await rejection(analytics(fx).sql(`SELECT * FROM query('COPY (SELECT 1) TO ''${target}''')`), "REM_ERR_SQL_INVALID");
    expect(existsSync(target)).toBe(false);
    expect(existsSync(join(exportsDir, "dump"))).toBe(false);
  });

  it("refuses statements other than reads", async () => {
    const cases: [string, string][] = [
      ["CREATE TABLE t AS SELECT 1", "CREATE"],
      ["CREATE VIEW v AS SELECT 1", "CREATE"],
      ["INSERT INTO notes VALUES (1)", "INSERT"],
      ["DROP VIEW notes", "DROP"],
      ["INSTALL httpfs", "INSTALL"],
      ["LOAD httpfs", "LOAD"],
      ["SET enable_external_access = true", "SET"],
      ["RESET lock_configuration", "RESET"],
      ["PRAGMA threads = 1", "PRAGMA"],
      ["CALL pragma_version()", "CALL"],
      ["CHECKPOINT", "CHECKPOINT"],
      ["SELECT 1; SELECT 2", "MULTI"],
      ["SELECT 1; ATTACH ':memory:' AS m", "MULTI"],
      ["EXPLAIN CREATE TABLE t (a INT)", "CREATE"],
    ];
    for (const [q, statement] of cases) expect((await refused(q)).details.statement, q).toBe(statement);
  });

  it("runs in a session whose configuration is locked", async () => {
    const [row] = await sql(fx, "SELECT current_setting('enable_external_access') AS ext, current_setting('lock_configuration') AS locked, current_setting('autoload_known_extensions') AS autoload");
    expect(row).toEqual({ ext: false, locked: true, autoload: false });
  });

  it("reports bad SQL as invalid, naming the problem", async () => {
    expect((await rejection(analytics(fx).sql("SELEC 1"), "REM_ERR_SQL_INVALID")).details.duckdb).toBe("parser");
    expect((await rejection(analytics(fx).sql("SELECT * FROM no_such_schema"), "REM_ERR_SQL_INVALID")).message).toMatch(/no_such_schema/);
    for (const empty of ["   ", ";", " ; ;", "-- only a comment"]) await rejection(analytics(fx).sql(empty), "REM_ERR_SQL_INVALID");
  });

  it("stops a query at the time limit", async () => {
    const e = await rejection(analytics(fx).sql("SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b", { timeoutMs: 50 }), "REM_ERR_SQL_LIMIT");
    expect(e.details.limit).toBe("time");
  });

  it("cuts results at max rows", async () => {
    const r = await analytics(fx).sql("SELECT * FROM range(10)", { maxRows: 3 });
    expect(r.rows).toHaveLength(3);
    expect(r.truncated).toBe(true);
  });

  it("left no file behind in the export directory", async () => {
    expect((await readdir(exportsDir)).sort()).toEqual(["_edges", "manifest.json", "notes"]);
    expect((await readdir(join(exportsDir, "notes"))).every((f) => f.endsWith(".parquet"))).toBe(true);
  });
});
