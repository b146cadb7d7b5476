import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rem } from "../support/cli.js";
import { startNatsServer, type NatsServerHandle } from "../support/nats-server.js";
import { tempDir } from "../support/tmp.js";

let root: { path: string; cleanup(): Promise<void> };
let server: NatsServerHandle;

beforeAll(async () => {
  root = await tempDir("rem-cli-nats-");
  server = await startNatsServer();
});
afterAll(async () => {
  await server.cleanup();
  await root.cleanup();
});

const E1 = "0b1a3c4d-0000-4000-8000-000000000001";
const cli = (args: string[], input?: string, env: Record<string, string | undefined> = {}) =>
  rem(args, { input, env: { REM_DATA: join(root.path, "node"), REM_PASSPHRASE: "nats passphrase", REM_NATS_URL: server.url, ...env } });

describe("rem CLI on NATS JetStream (--nats / REM_NATS_URL)", () => {
  it("initialises the tenant as a stream and appends, reads and verifies through it", async () => {
    const init = await cli(["init", "--kdf-cost", "12", "--tenant", "acme", "--encrypt"]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.json).toMatchObject({ tenant: "acme", backend: "jetstream", encrypted: true, seq: 1 });
    const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ type: "entity.upserted", entity_id: E1, schema: "notes", data: { i } })).join("\n");
    const app = await cli(["log", "append", "--tenant", "acme", "--commit-size", "100"], lines);
    expect(app.json).toMatchObject({ commits: 3, events: 250, first_seq: 2, last_seq: 4 });
    const read = await cli(["log", "read", "--tenant", "acme", "--from", "4"]);
    expect(read.lines).toHaveLength(50);
    expect(read.lines[49]).toMatchObject({ seq: 4, index: 49, event: { data: { i: 249 } } });
    const v = await cli(["verify", "--tenant", "acme"]);
    expect(v.json).toMatchObject({ ok: true, backend: "jetstream", commits: 4, events: 255, encrypted_commits: 4 });
  });

  it("refuses to open a JetStream tenant on the embedded log and vice versa", async () => {
    const r = await cli(["log", "read", "--tenant", "acme"], undefined, { REM_NATS_URL: undefined });
    expect(r.error?.code).toBe("REM_ERR_INVALID_ARGUMENT");
    expect(r.error?.message).toMatch(/--nats/);
  });

  it("reports an unreachable server as unavailable", async () => {
    const r = await cli(["log", "read", "--tenant", "acme"], undefined, { REM_NATS_URL: "nats://127.0.0.1:1" });
    expect(r.error?.code).toBe("REM_ERR_LOG_UNAVAILABLE");
  });
});
