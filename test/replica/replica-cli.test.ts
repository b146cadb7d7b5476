import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertEntities } from "../../src/node/writes.js";
import { rem } from "../support/cli.js";
import { useNatsServer } from "../support/nats-fixture.js";
import { eventually, primaryNode, replicaNode, type PrimaryNode, type ReplicaNode } from "./replica-fixture.js";

const BIN = fileURLToPath(new URL("../../bin/rem.js", import.meta.url));

describe("rem replicate and rem replication status", () => {
  const nats = useNatsServer();
  let primary: PrimaryNode;
  let replica: ReplicaNode;
  const env = () => ({ REM_DATA: replica.dir, REM_NATS_URL: nats.server.url, REM_TENANT: "acme" });
  beforeAll(async () => {
    primary = await primaryNode(nats.server.url, "acme");
    replica = await replicaNode(nats.server.url, primary.publicKey, "acme");
    await insertEntities(primary.tenant, "notes", [{ text: "a", n: 1 }, { text: "b", n: 2 }]);
  });
  afterAll(async () => {
    await replica?.close();
    await primary?.close();
  });

  it("--once catches up, prints its position, and leaves a status", async () => {
    const head = (await primary.tenant.log.head()).seq;
    const r = await rem(["replicate", "--once"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ tenant: "acme", role: "replica", position: { seq: head }, lag_commits: 0, following: false });
    const s = await rem(["replication", "status"], { env: env() });
    expect(s.code, s.stderr).toBe(0);
    expect(s.json).toMatchObject({ position: { seq: head }, head: { seq: head }, lag_commits: 0, running: false });
    const q = await rem(["query", "SELECT text FROM notes ORDER BY n"], { env: { ...env(), REM_NATS_URL: nats.server.url } });
    expect(q.json).toEqual([{ text: "a" }, { text: "b" }]);
  });

  it("status with --nats asks the stream: a write after the replica stopped shows as lag", async () => {
    await insertEntities(primary.tenant, "notes", [{ text: "c", n: 3 }]);
    const s = await rem(["replication", "status"], { env: env() });
    expect(s.json).toMatchObject({ lag_commits: 1, running: false });
    expect((s.json as { lag_ms: number }).lag_ms).toBeGreaterThanOrEqual(0);
  });

  it("--follow applies new commits as they land, reports running, and stops cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, [BIN, "replicate", "--follow", "--status-every-ms", "100"], { env: { ...process.env, ...env() }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      const w = await insertEntities(primary.tenant, "notes", [{ text: "d", n: 4 }]);
      const s = await eventually(
        async () => (await rem(["replication", "status"], { env: env() })).json as { position: { seq: number }; running: boolean },
        (j) => j !== undefined && j.position.seq >= w.seq && j.running,
        20_000,
      );
      expect(s).toMatchObject({ position: { seq: w.seq }, running: true, connected: true });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ following: false, tenant: "acme" });
    const after = await rem(["replication", "status"], { env: env() });
    expect(after.json).toMatchObject({ running: false });
  });

  it("explains what is missing: no --nats, no such stream, no status yet", async () => {
    const noNats = await rem(["replicate", "--once"], { env: { ...env(), REM_NATS_URL: undefined } });
    expect(noNats.code).toBe(2);
    expect(noNats.error?.code).toBe("REM_ERR_INVALID_ARGUMENT");
    const missing = await rem(["replicate", "--once", "--tenant", "nosuch"], { env: env() });
    expect(missing.code).toBe(1);
    expect(missing.error?.code).toBe("REM_ERR_NOT_FOUND");
    const none = await rem(["replication", "status", "--tenant", "nosuch"], { env: env() });
    expect(none.error?.code).toBe("REM_ERR_NOT_INITIALIZED");
    const both = await rem(["replicate", "--once", "--follow"], { env: env() });
    expect(both.code).toBe(2);
  });
});
