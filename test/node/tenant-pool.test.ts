import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig, type RemConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import { TenantPool } from "../../src/node/tenant-pool.js";
import { writeTenantMeta } from "../../src/node/tenant-meta.js";
import { registerSchema, insertEntities } from "../../src/node/writes.js";
import { isRemError } from "../../src/errors.js";
import { tempDir } from "../support/tmp.js";

let root: { path: string; cleanup(): Promise<void> };
let config: RemConfig;
let keystore: Keystore;
const names = ["a", "b", "c", "d"].map((n) => tenantName(n));

async function initTenant(t: TenantName): Promise<void> {
  await writeTenantMeta(root.path, { v: 1, tenant: t, created_at: new Date().toISOString(), backend: "file", encrypted: false });
}

beforeAll(async () => {
  root = await tempDir("rem-pool-");
  keystore = await Keystore.create(join(root.path, "keys"), "pool passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  for (const n of names) await initTenant(n);
  config = resolveConfig({ data: root.path }, {});
});
afterAll(() => root.cleanup());

describe("tenant pool (lazy open, LRU close)", () => {
  it("keeps at most maxOpen idle tenants open, closing the least recently used", async () => {
    const pool = new TenantPool(config, { keystore, write: true, maxOpen: 2 });
    for (const n of names.slice(0, 3)) await pool.use(n, async () => undefined);
    expect(pool.open).toEqual(["b", "c"]);
    await pool.use(tenantName("b"), async () => undefined); // b becomes the most recent
    await pool.use(tenantName("d"), async () => undefined);
    expect(pool.open).toEqual(["b", "d"]);
    await pool.close();
  });

  it("tracks recency through repeated uses of the same tenant and through evictions", async () => {
    const pool = new TenantPool(config, { keystore, write: true, maxOpen: 2 });
    const use = (n: string) => pool.use(tenantName(n), async () => undefined);
    for (const n of ["a", "b", "b", "a", "a"]) await use(n);
    expect(pool.open).toEqual(["b", "a"]);
    await use("c"); // evicts b, the least recent
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.open).toEqual(["a", "c"]);
    for (const n of ["a", "b"]) await use(n); // a becomes the most recent; b reopens and evicts c
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.open).toEqual(["a", "b"]);
    await pool.close();
  });

  it("shares one handle among concurrent uses and never closes a tenant in use", async () => {
    const pool = new TenantPool(config, { keystore, write: true, maxOpen: 1 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seen: unknown[] = [];
    const longUse = pool.use(tenantName("a"), async (t) => {
      seen.push(t);
      await held;
      // Still open and usable although other tenants came and went.
      await registerSchema(t, { name: "notes", type: "object", properties: { title: { type: "string" } }, key_field: "title" });
      return (await insertEntities(t, "notes", [{ title: "kept" }])).ids;
    });
    await pool.use(tenantName("a"), async (t) => void seen.push(t));
    await pool.use(tenantName("b"), async () => undefined);
    await pool.use(tenantName("c"), async () => undefined);
    expect(seen[0]).toBe(seen[1]);
    expect(pool.open).toContain("a");
    release();
    const ids = await longUse;
    // Evicted later, reopened on the next use with its data intact.
    await pool.use(tenantName("b"), async () => undefined);
    expect(pool.open).not.toContain("a");
    await pool.use(tenantName("a"), async (t) => expect(t.store.getEntity(ids[0]!)?.data).toEqual({ title: "kept" }));
    await pool.close();
  });

  it("does not cache a failed open", async () => {
    const pool = new TenantPool(config, { keystore, write: true, maxOpen: 4 });
    const ghost = tenantName("ghost");
    const err = await pool.use(ghost, async () => undefined).catch((e: unknown) => e);
    expect(isRemError(err, "REM_ERR_NOT_INITIALIZED")).toBe(true);
    await initTenant(ghost);
    await pool.use(ghost, async (t) => expect(t.name).toBe("ghost"));
    await pool.close();
  });
});
