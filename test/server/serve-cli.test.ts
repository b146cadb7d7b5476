import { execFile, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rem } from "../support/cli.js";
import { call, reopenServer, serverFixture } from "../support/server-fixture.js";
import { tempDir } from "../support/tmp.js";

const BIN = fileURLToPath(new URL("../../bin/rem.js", import.meta.url));
const sh = promisify(execFile);

/** Starts `rem serve` and resolves with the banner once it is printed. */
function serve(env: Record<string, string>, args: string[]): Promise<{ child: ChildProcess; banner: string; exit: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", ...args], { env: { ...process.env, REM_NATS_URL: undefined, REM_TENANT: undefined, REM_ADMIN_TOKEN: undefined, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("try it:") && (err.match(/^\s*curl /gm)?.length ?? 0) >= 2 && err.trimEnd().endsWith("'")) resolve({ child, banner: err, exit });
    });
    void exit.then((code) => reject(new Error(`rem serve exited ${code}: ${err}`)));
  });
}

describe("rem serve and rem token", () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let server: Awaited<ReturnType<typeof serve>>;
  const env = () => ({ REM_DATA: data.path, REM_PASSPHRASE: "a passphrase for tests" });
  beforeAll(async () => {
    data = await tempDir("rem-serve-");
    server = await serve(env(), ["--init", "--port", "0", "--log-level", "warn"]);
  }, 60_000);
  afterAll(async () => {
    server?.child.kill("SIGKILL");
    await data?.cleanup();
  });

  it("prints the URL, the OpenAPI address, the admin token once, and first curls that work as printed", async () => {
    const url = /REM serving (http:\/\/127\.0\.0\.1:\d+)/.exec(server.banner)?.[1];
    expect(url).toBeDefined();
    expect(server.banner).toContain(`${url}/docs/json`);
    expect(server.banner).toMatch(/admin token \(shown once, stored hashed\):\n\s+rem_\S+/);
    const curls = server.banner.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("curl "));
    expect(curls).toHaveLength(2);
    const insert = JSON.parse((await sh("sh", ["-c", curls[0]!])).stdout) as { ids: string[]; seq: number };
    expect(insert.ids).toHaveLength(1);
    const found = JSON.parse((await sh("sh", ["-c", curls[1]!])).stdout) as { id: string; score: number }[];
    expect(found[0]!.id).toBe(insert.ids[0]);
    const doc = await fetch(`${url}/docs/json`);
    expect(doc.status).toBe(200);
  });

  it("rem token create issues tenant tokens the running server accepts at once; read-only ones cannot write", async () => {
    const url = /REM serving (\S+)/.exec(server.banner)![1]!;
    const ro = await rem(["token", "create", "--read-only", "--label", "ci"], { env: env() });
    expect(ro.code).toBe(0);
    const token = (ro.json as { token: string }).token;
    expect((await call(url, "GET", "/api/v1/schemas", { token, tenant: "default" })).status).toBe(200);
    expect((await call(url, "POST", "/api/v1/entities/resources", { token, tenant: "default", body: { content: "x" } })).status).toBe(403);
    expect((await call(url, "GET", "/api/v1/schemas", { token, tenant: "other" })).status).toBe(403);
    const list = await rem(["token", "list"], { env: env() });
    const mine = (list.json as { id: string; label?: string; read_only?: boolean }[]).find((t) => t.label === "ci");
    expect(mine).toMatchObject({ read_only: true });
    expect(list.stdout).not.toContain(token);
    expect((await rem(["token", "revoke", mine!.id], { env: env() })).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100)); // revocations reach a running server within a second
    expect((await call(url, "GET", "/api/v1/schemas", { token, tenant: "default" })).status).toBe(401);
    expect((await rem(["token", "revoke", "nope"], { env: env() })).error?.code).toBe("REM_ERR_NOT_FOUND");
  });

  it("stops cleanly on SIGTERM (exit 0) and starts again on the same data without printing a new admin token", async () => {
    server.child.kill("SIGTERM");
    expect(await server.exit.catch(() => null)).toBe(0);
    const again = await serve(env(), ["--port", "0", "--log-level", "warn"]);
    try {
      expect(again.banner).not.toMatch(/admin token \(shown once/);
      expect(again.banner).toContain("rem token create --tenant default");
      const url = /REM serving (\S+)/.exec(again.banner)![1]!;
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
    } finally {
      again.child.kill("SIGTERM");
      await again.exit.catch(() => null);
    }
  });

  it("refuses to start without the passphrase, and on a port in use, with clear errors", async () => {
    const r = await rem(["serve", "--port", "0"], { env: { REM_DATA: data.path } });
    expect(r.error?.code).toBe("REM_ERR_PASSPHRASE_REQUIRED");
    const fx = await serverFixture();
    try {
      const port = new URL(fx.url).port;
      const busy = await rem(["serve", "--port", port], { env: env() });
      expect(busy.error?.code).toBe("REM_ERR_INVALID_ARGUMENT");
      expect(busy.error?.message).toContain("in use");
    } finally {
      await fx.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("finishes in-flight appends, ends SSE followers, then refuses connections", async () => {
    const fx = await serverFixture();
    const schema = { title: "bulk", type: "object", properties: { n: { type: "integer" } }, json_schema_extra: { name: "bulk" } };
    expect((await fx.call("POST", "/api/v1/schemas", { body: schema })).status).toBe(201);
    const sse = await fetch(`${fx.url}/api/v1/events?from=1`, { headers: { authorization: "Bearer rem_test_admin_token_0123456789abcdef", "x-tenant-id": "acme", accept: "text/event-stream" } });
    const drained = sse.text(); // resolves when the server ends the stream
    const inflight = fx.call("POST", "/api/v1/entities/bulk", { body: Array.from({ length: 5000 }, (_, n) => ({ n })) });
    await new Promise((r) => setTimeout(r, 20));
    const closing = fx.server.close();
    const r = await inflight;
    await closing;
    expect(r.status).toBe(201);
    expect(r.json.ids).toHaveLength(5000);
    expect(await drained).toContain("event: commit");
    await expect(fetch(`${fx.url}/health`)).rejects.toThrow();
    // Everything acknowledged is in the log and the projections after a restart.
    const again = await reopenServer(fx);
    try {
      const count = await again.call("POST", "/api/v1/query", { body: { sql: "SELECT COUNT(*) FROM bulk" } });
      expect(count.json.count).toBe(5000);
    } finally {
      await again.close();
    }
  });
});
