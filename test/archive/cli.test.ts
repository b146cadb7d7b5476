import { spawn } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rem } from "../support/cli.js";
import { testStore, useS3Server } from "../support/s3-server.js";
import { tempDir } from "../support/tmp.js";

const PASS = "archive cli passphrase";
const s3 = useS3Server();
let root: { path: string; cleanup(): Promise<void> };
const URL_ = () => `s3://${s3.server.bucket}/cli`;

beforeAll(async () => {
  root = await tempDir("rem-arch-cli-");
});
afterAll(() => root.cleanup());

/** A CLI bound to one data directory, with the standard AWS variables pointing at the test S3 server. */
function node(name: string) {
  return (args: string[], input?: string, env: Record<string, string | undefined> = {}) =>
    rem(args, { env: { REM_DATA: join(root.path, name), REM_PASSPHRASE: PASS, ...s3.server.env, ...env }, input });
}
const ep = () => ["--endpoint", s3.server.endpoint];

const notes = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ uri: `https://example.com/${from + i}`, content: `note ${from + i} about agent memory and archives`, content_type: "text" })).join("\n") + "\n";

describe("rem archive / verify --from / replay through the real CLI", () => {
  const a = node("a");
  const b = node("b");

  it("archives, audits, plans, restores, refuses to overwrite, restores a point in time", async () => {
    expect((await a(["init", "--kdf-cost", "10"])).code).toBe(0);
    expect((await a(["schema", "add", "--name", "articles", "--template", "resources"])).code).toBe(0);
    expect((await a(["insert", "articles", "--batch", "--commit-size", "4"], notes(0, 10))).code).toBe(0);

    const arch = await a(["archive", "--s3", URL_(), ...ep(), "--segment-bytes", "4096"]);
    expect(arch.code, arch.stderr).toBe(0);
    const summary = arch.json as { head_seq: number; segments_uploaded: number; head_hash: string };
    expect(summary.head_seq).toBeGreaterThan(3);
    expect(summary.segments_uploaded).toBeGreaterThan(1);
    expect(arch.stderr).not.toMatch(/NodeVersionSupportWarning/);

    expect((await a(["insert", "articles", "--batch"], notes(10, 3))).code).toBe(0);
    const again = await a(["archive", "--s3", URL_(), ...ep()]);
    expect(again.json).toMatchObject({ previous_head_seq: summary.head_seq });
    const head = (again.json as { head_seq: number }).head_seq;

    const audit = await a(["verify", "--from", URL_(), ...ep()]);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.json).toMatchObject({ ok: true, backend: "archive", head_seq: head, decrypted: true });

    // Node b trusts node a's key, then restores.
    expect((await b(["key-gen", "--kdf-cost", "10"])).code).toBe(0);
    const pub = join(root.path, "a.pub.json");
    await writeFile(pub, (await a(["key", "export-public"])).stdout);
    expect((await b(["key", "trust", pub])).code).toBe(0);

    const plan = await b(["replay", "--from", URL_(), ...ep(), "--dry-run"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json).toMatchObject({ dry_run: true, restored: false, target_seq: head, archive_head: { seq: head }, target: { exists: false, backend: "file" } });
    expect(await readdir(join(root.path, "b", "tenants")).catch(() => [])).toEqual([]);

    const r = await b(["replay", "--from", URL_(), ...ep()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ restored: true, seq: head });
    const status = await b(["status"]);
    expect(status.json).toMatchObject({ log: { head_seq: head }, projection: { seq: head, lag: 0 } });
    const search = await b(["search", "agent memory", "--schema", "articles", "--top-k", "3"]);
    expect(search.code, search.stderr).toBe(0);
    expect((search.json as unknown[]).length).toBe(3);

    const refused = await b(["replay", "--from", URL_(), ...ep()]);
    expect(refused.code).toBe(1);
    expect(refused.error?.code).toBe("REM_ERR_ALREADY_EXISTS");

    const pit = await b(["replay", "--from", URL_(), ...ep(), "--until-seq", "2", "--force"]);
    expect(pit.code, pit.stderr).toBe(0);
    expect(pit.json).toMatchObject({ seq: 2 });
    expect((await b(["status"])).json).toMatchObject({ log: { head_seq: 2 } });
    expect((await readdir(join(root.path, "b", "tenants"))).sort()).toEqual(["default"]);

    const badTime = await b(["replay", "--from", URL_(), ...ep(), "--until-time", "yesterday"]);
    expect(badTime.code).toBe(2);
    const badUrl = await b(["replay", "--from", "http://bucket/x"]);
    expect(badUrl.error?.code).toBe("REM_ERR_INVALID_ARGUMENT");
  });

  it("rem verify --from names the damaged object and sequence", async () => {
    const store = await testStore(s3.server, "cli");
    try {
      const seg = (await store.list("default/segments/"))[1]!;
      const bytes = await store.get(seg.key);
      bytes[bytes.length - 10]! ^= 0xff;
      await store.put(seg.key, bytes);
      const r = await a(["verify", "--from", URL_(), ...ep()]);
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ ok: false, code: "REM_ERR_ARCHIVE_CORRUPT", object: store.url(seg.key) });
      expect(typeof (r.json as { seq: unknown }).seq).toBe("number");
      const untrusted = await node("c")(["verify", "--from", URL_(), ...ep()]);
      expect(untrusted.error?.code).toBe("REM_ERR_NOT_INITIALIZED"); // no keystore there at all
    } finally {
      store.close();
    }
  });

  it("rem archive --snapshot signs the snapshot with the node's key (so it needs the passphrase); rem replay uses it", async () => {
    const snapUrl = `s3://${s3.server.bucket}/snap`;
    const locked = await a(["archive", "--s3", snapUrl, ...ep(), "--snapshot"], undefined, { REM_PASSPHRASE: undefined });
    expect(locked.code).toBe(1);
    expect(locked.error?.code).toBe("REM_ERR_PASSPHRASE_REQUIRED");
    const arch = await a(["archive", "--s3", snapUrl, ...ep(), "--snapshot"]);
    expect(arch.code, arch.stderr).toBe(0);
    const seq = (arch.json as { snapshot: { seq: number } }).snapshot.seq;
    expect(seq).toBeGreaterThan(3);

    const t = node("t");
    expect((await t(["key-gen", "--kdf-cost", "10"])).code).toBe(0);
    const pub = join(root.path, "a2.pub.json");
    await writeFile(pub, (await a(["key", "export-public"])).stdout);
    expect((await t(["key", "trust", pub])).code).toBe(0);
    const audit = await t(["verify", "--from", snapUrl, ...ep()]);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.json).toMatchObject({ ok: true, snapshots: [{ seq }] });
    const r = await t(["replay", "--from", snapUrl, ...ep()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ restored: true, snapshot_used: seq });
    const query = await t(["query", "SELECT COUNT(*) FROM articles"]);
    expect(query.json).toEqual([{ count: 13 }]);
  });

  it("rem archive --compact merges small segment objects; the archive still verifies", async () => {
    const url = `s3://${s3.server.bucket}/compact`;
    const first = await a(["archive", "--s3", url, ...ep(), "--segment-bytes", "4096"]);
    expect(first.code, first.stderr).toBe(0);
    const before = (first.json as { segments_total: number }).segments_total;
    expect(before).toBeGreaterThan(2);
    const r = await a(["archive", "--s3", url, ...ep(), "--compact", "--segment-bytes", String(1024 * 1024)]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json as { segments_total: number; compaction: { merged: number; retired: number; segments_before: number } };
    expect(out.compaction).toMatchObject({ merged: 1, retired: before, segments_before: before });
    expect(out.segments_total).toBe(1);
    const audit = await a(["verify", "--from", url, ...ep()]);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.json).toMatchObject({ ok: true, segments: 1 });
  });

  it("rem archive --follow uploads as commits arrive and stops cleanly on SIGTERM", async () => {
    const f = node("f");
    expect((await f(["init", "--kdf-cost", "10"])).code).toBe(0);
    const bin = fileURLToPath(new URL("../../bin/rem.js", import.meta.url));
    const child = spawn(process.execPath, [bin, "archive", "--s3", `s3://${s3.server.bucket}/follow`, ...ep(), "--follow", "--max-delay", "1"], {
      env: { ...process.env, REM_DATA: join(root.path, "f"), REM_PASSPHRASE: PASS, REM_TENANT: undefined, REM_NATS_URL: undefined, ...s3.server.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: Record<string, unknown>[] = [];
    let buf = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const p of parts) if (p.trim() !== "") lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const waitFor = async (pred: () => boolean) => {
      for (let i = 0; i < 1200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(pred(), stderr).toBe(true);
    };
    try {
      await waitFor(() => lines.some((l) => l.event === "uploaded" && l.last_seq === 1));
      expect((await f(["schema", "add", "--name", "articles", "--template", "resources"])).code).toBe(0);
      await waitFor(() => lines.some((l) => l.event === "uploaded" && l.last_seq === 2));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(lines[lines.length - 1]).toMatchObject({ event: "stopped", head_seq: 2 });
    } finally {
      child.kill("SIGKILL");
    }
  });
});
