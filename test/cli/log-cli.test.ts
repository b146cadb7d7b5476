import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rem } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

let root: { path: string; cleanup(): Promise<void> };
const PASS = "correct horse battery staple";

beforeAll(async () => {
  root = await tempDir("rem-cli-");
});
afterAll(() => root.cleanup());

/** A CLI bound to one data directory (resolved lazily: the temp root exists only once the suite starts). */
function node(name: string) {
  return (args: string[], input?: string, envOverride: Record<string, string | undefined> = {}) =>
    rem(args, { env: { REM_DATA: join(root.path, name), REM_PASSPHRASE: PASS, ...envOverride }, input });
}

const E1 = "0b1a3c4d-0000-4000-8000-000000000001";
const E2 = "0b1a3c4d-0000-4000-8000-000000000002";
const jsonl = (...objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join("\n") + "\n";
const upsert = (entity_id: string, data: object, id?: string) => ({ type: "entity.upserted", entity_id, schema: "notes", data, ...(id ? { id } : {}) });

/** Segment frames of a tenant: [offset, length] of each commit, for tampering tests. */
async function frames(dataDir: string, tenant: string): Promise<{ path: string; buf: Buffer; frames: { off: number; len: number }[] }> {
  const dir = join(dataDir, "tenants", tenant, "log");
  const seg = (await readdir(dir)).filter((f) => f.endsWith(".seg")).sort()[0]!;
  const path = join(dir, seg);
  const buf = await readFile(path);
  const out: { off: number; len: number }[] = [];
  for (let off = 84; off < buf.length; ) {
    const len = buf.readUInt32BE(off) & 0x7fffffff;
    out.push({ off, len });
    off += 8 + len;
  }
  return { path, buf, frames: out };
}

/** Rewrites a frame's checksum after its commit bytes were edited, so only the layers above can notice. */
function reframe(buf: Buffer, off: number, len: number): void {
  buf.writeUInt32BE(crc32(buf.subarray(off + 8, off + 8 + len), crc32(buf.subarray(off, off + 4))), off + 4);
}

describe("rem CLI: init, append, read, verify", () => {
  const a = node("a");

  it("initialises a tenant with a signed genesis commit, idempotently", async () => {
    const r = await a(["init", "--kdf-cost", "12"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ tenant: "default", backend: "file", encrypted: false, created: true, seq: 1 });
    expect(r.stderr).toMatch(/created keystore/);
    const again = await a(["init"]);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ created: false, seq: 1 });
  });

  it("appends JSONL events as a commit and reads them back", async () => {
    const r = await a(["log", "append"], jsonl(upsert(E1, { title: "first" }), upsert(E2, { title: "second" }), { type: "edge.added", src: E1, dst: E2, edge_type: "links_to" }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ commits: 1, events: 3, first_seq: 2, last_seq: 2, duplicates: 0 });
    const read = await a(["log", "read", "--from", "2"]);
    expect(read.code).toBe(0);
    expect(read.lines).toHaveLength(3);
    expect(read.lines[0]).toMatchObject({ seq: 2, index: 0, event: { type: "entity.upserted", entity_id: E1, data: { title: "first" } } });
    expect(read.lines[2]).toMatchObject({ seq: 2, index: 2, event: { type: "edge.added", props: {} } });
  });

  it("retries of the same event ids are idempotent", async () => {
    const line = jsonl(upsert(E1, { title: "again" }, "5f0e7a53-1111-4000-8000-000000000000"));
    const first = await a(["log", "append"], line);
    const second = await a(["log", "append"], line);
    expect(first.json).toMatchObject({ first_seq: 3, duplicates: 0 });
    expect(second.json).toMatchObject({ first_seq: 3, duplicates: 1 });
  });

  it("refuses a batch with one bad line, naming the line and field, and appends nothing", async () => {
    const before = (await a(["verify"])).json as { commits: number };
    const r = await a(["log", "append"], jsonl(upsert(E1, { ok: true }), upsert("nope", {})));
    expect(r.code).toBe(1);
    expect(r.error).toMatchObject({ code: "REM_ERR_EVENT_INVALID", details: { path: "line 2.entity_id" } });
    const bad = await a(["log", "append"], '{"type": "entity.upserted",\n');
    expect(bad.error).toMatchObject({ code: "REM_ERR_EVENT_INVALID", details: { line: 1 } });
    expect(((await a(["verify"])).json as { commits: number }).commits).toBe(before.commits);
  });

  it("detects conflicts with --expected-seq (exit 3)", async () => {
    const r = await a(["log", "append", "--expected-seq", "1"], jsonl(upsert(E1, { stale: true })));
    expect(r.code).toBe(3);
    expect(r.error).toMatchObject({ code: "REM_ERR_LOG_CONFLICT", details: { expectedSeq: 1, actualSeq: 3 } });
    const ok = await a(["log", "append", "--expected-seq", "3"], jsonl(upsert(E1, { fresh: true })));
    expect(ok.json).toMatchObject({ first_seq: 4 });
  });

  it("verifies the whole log and summarises it", async () => {
    const r = await a(["verify"]);
    expect(r.code, r.stdout).toBe(0);
    // The genesis commit holds the signing key record and the three core schemas.
    expect(r.json).toMatchObject({ ok: true, tenant: "default", backend: "file", commits: 4, events: 9, head_seq: 4, decrypted: true });
    expect((r.json as { event_types: Record<string, number> }).event_types).toEqual({ "key.rotated": 1, "schema.registered": 3, "entity.upserted": 4, "edge.added": 1 });
  });

  it("moves events between tenants with --events-only", async () => {
    await a(["init", "--tenant", "copy"]);
    const out = await a(["log", "read", "--from", "2", "--events-only"]);
    const r = await a(["log", "append", "--tenant", "copy"], out.stdout);
    expect(r.json).toMatchObject({ events: 5, first_seq: 2 });
  });

  it("rejects a wrong passphrase and a missing one", async () => {
    const wrong = await a(["log", "append"], jsonl(upsert(E1, {})), { REM_PASSPHRASE: "not the passphrase" });
    expect(wrong.error?.code).toBe("REM_ERR_BAD_PASSPHRASE");
    const none = await a(["log", "append"], jsonl(upsert(E1, {})), { REM_PASSPHRASE: undefined });
    expect(none.error?.code).toBe("REM_ERR_PASSPHRASE_REQUIRED");
  });

  it("rejects bad tenant names and uninitialised tenants clearly", async () => {
    const bad = await a(["log", "read", "--tenant", "../etc"]);
    expect(bad.error?.code).toBe("REM_ERR_TENANT_INVALID");
    const missing = await a(["log", "read", "--tenant", "ghost"]);
    expect(missing.error?.code).toBe("REM_ERR_NOT_INITIALIZED");
  });
});

describe("rem verify on damaged logs", () => {
  async function freshNode(name: string, commits: number) {
    const n = node(name);
    await n(["init", "--kdf-cost", "12"]);
    for (let i = 0; i < commits; i++) await n(["log", "append"], jsonl(upsert(E1, { i })));
    return n;
  }

  it("names the commit whose signature was forged", async () => {
    const n = await freshNode("forged", 3);
    const { path, buf, frames: fs } = await frames(join(root.path, "forged"), "default");
    const f = fs[2]!; // commit 3
    buf[f.off + 8 + f.len - 10]! ^= 0xff; // inside the signature
    reframe(buf, f.off, f.len);
    await writeFile(path, buf);
    const r = await n(["verify"]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, code: "REM_ERR_BAD_SIGNATURE", seq: 3 });
  });

  it("names a commit whose content was altered behind a valid checksum", async () => {
    const n = await freshNode("altered", 3);
    const { path, buf, frames: fs } = await frames(join(root.path, "altered"), "default");
    const f = fs[1]!; // commit 2
    buf[f.off + 8 + 150]! ^= 0x01; // in the payload
    reframe(buf, f.off, f.len);
    await writeFile(path, buf);
    const r = await n(["verify"]);
    expect(r.json).toMatchObject({ ok: false, seq: 2 });
    expect(["REM_ERR_BAD_SIGNATURE", "REM_ERR_DECODE"]).toContain((r.json as { code: string }).code);
  });

  it("names a flipped byte (frame checksum) and a reordered commit", async () => {
    const n = await freshNode("flipped", 4);
    const dir = join(root.path, "flipped");
    const { path, buf, frames: fs } = await frames(dir, "default");
    const original = Buffer.from(buf);
    buf[fs[1]!.off + 60]! ^= 0x10;
    await writeFile(path, buf);
    const r = await n(["verify"]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, code: "REM_ERR_LOG_CORRUPT", seq: 2 });
    // Swap commits 2 and 3 (each frame intact).
    const [f2, f3] = [fs[1]!, fs[2]!];
    const swapped = Buffer.concat([original.subarray(0, f2.off), original.subarray(f3.off, f3.off + 8 + f3.len), original.subarray(f2.off, f2.off + 8 + f2.len), original.subarray(f3.off + 8 + f3.len)]);
    await writeFile(path, swapped);
    const r2 = await n(["verify"]);
    expect(r2.json).toMatchObject({ ok: false, seq: 2 });
    expect((r2.json as { message: string }).message).toMatch(/holds commit 3, expected 2/);
  });

  it("refuses commits by keys it does not trust until told to trust them", async () => {
    await freshNode("writer", 2);
    const reader = node("reader");
    await reader(["key-gen", "--kdf-cost", "12"]);
    await cp(join(root.path, "writer", "tenants"), join(root.path, "reader", "tenants"), { recursive: true });
    const r = await reader(["verify"]);
    expect(r.json).toMatchObject({ ok: false, code: "REM_ERR_UNKNOWN_KEY", seq: 1 });
    const pub = (await node("writer")(["key", "export-public"])).json as { public_key: string };
    const t = await reader(["key", "trust", pub.public_key]);
    expect(t.code, t.stderr).toBe(0);
    expect((await reader(["verify"])).json).toMatchObject({ ok: true, commits: 3 });
  });

  it("rotates the signing key; old commits still verify", async () => {
    const n = await freshNode("rotate", 1);
    const again = await n(["key-gen"]);
    expect(again.error?.code).toBe("REM_ERR_ALREADY_EXISTS");
    const rotated = await n(["key-gen", "--rotate"]);
    expect(rotated.code).toBe(0);
    await n(["log", "append"], jsonl(upsert(E2, { after: "rotation" })));
    const v = await n(["verify"]);
    expect(v.json).toMatchObject({ ok: true, commits: 3 });
    expect((v.json as { signing_keys: string[] }).signing_keys).toHaveLength(2);
  });
});

describe("encryption and crypto-shredding", () => {
  const s = node("secret");
  const SECRET = "the launch code is 0000";

  it("encrypts the log so the plaintext never reaches disk", async () => {
    const init = await s(["init", "--kdf-cost", "12", "--tenant", "vault", "--encrypt"]);
    expect(init.json).toMatchObject({ encrypted: true, seq: 1 });
    expect((init.json as { data_key: string }).data_key).toMatch(/^[0-9a-f]{16}$/);
    await s(["log", "append", "--tenant", "vault"], jsonl(upsert(E1, { secret: SECRET })));
    const { buf } = await frames(join(root.path, "secret"), "vault");
    expect(buf.includes(Buffer.from(SECRET))).toBe(false);
    const read = await s(["log", "read", "--tenant", "vault", "--from", "2"]);
    expect(read.lines[0]).toMatchObject({ event: { data: { secret: SECRET } } });
    const noPass = await s(["log", "read", "--tenant", "vault", "--from", "2"], undefined, { REM_PASSPHRASE: undefined });
    expect(noPass.error?.code).toBe("REM_ERR_KEY_NOT_FOUND");
    const chainOnly = await s(["verify", "--tenant", "vault"], undefined, { REM_PASSPHRASE: undefined });
    expect(chainOnly.json).toMatchObject({ ok: true, decrypted: false, encrypted_commits: 2 });
  });

  it("shreds: every commit becomes unreadable, with a distinct error naming it", async () => {
    const refused = await s(["tenant", "shred", "--tenant", "vault"]);
    expect(refused.code).toBe(2);
    const r = await s(["tenant", "shred", "--tenant", "vault", "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json as { destroyed_keys: string[] }).destroyed_keys).toHaveLength(1);
    const read = await s(["log", "read", "--tenant", "vault"]);
    expect(read.error).toMatchObject({ code: "REM_ERR_KEY_SHREDDED", details: { seq: 1 } });
    const v = await s(["verify", "--tenant", "vault"]);
    expect(v.json).toMatchObject({ ok: false, code: "REM_ERR_KEY_SHREDDED", seq: 1 });
    const write = await s(["log", "append", "--tenant", "vault"], jsonl(upsert(E1, {})));
    expect(write.error?.code).toBe("REM_ERR_KEY_SHREDDED");
    // The key material is gone from disk, not just unlinked.
    const keyDir = join(root.path, "secret", "keys", "tenants", "vault");
    for (const f of (await readdir(keyDir)).filter((n) => n.endsWith(".json"))) {
      expect(JSON.parse(await readFile(join(keyDir, f), "utf8"))).not.toHaveProperty("sealed_key");
    }
  });
});
