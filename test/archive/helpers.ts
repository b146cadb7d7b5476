import { cp } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { resolveConfig, type RemConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import { initTenant } from "../../src/node/init-tenant.js";
import { Tenant } from "../../src/node/tenant.js";
import { addEdge, deleteEntity, insertEntities, registerSchema } from "../../src/node/writes.js";
import { searchEntities } from "../../src/query/search.js";
import type { ProjectionStore } from "../../projections/store/store.js";
import type { ObjectStore } from "../../replay/archive/object-store.js";
import { dumpStore as dumpAll } from "../support/store-dump.js";
import { tempDir } from "../support/tmp.js";

export const PASS = "archive test passphrase";

export interface Node {
  readonly dir: string;
  readonly config: RemConfig;
  readonly keystore: Keystore;
  tenant: Tenant | null;
  close(): Promise<void>;
}

/** A data directory with an unlocked keystore (signing key) and, unless `init: false`, an initialised tenant opened for writing. */
export async function sourceNode(name = "acme", options: { encrypt?: boolean } = {}): Promise<Node & { tenant: Tenant }> {
  const tmp = await tempDir("rem-arch-src-");
  const keystore = await Keystore.create(join(tmp.path, "keys"), PASS, { logN: 10 });
  await keystore.generateSigningKey();
  const tenant = tenantName(name);
  const config = resolveConfig({ data: tmp.path, tenant: name }, {});
  await initTenant(config, keystore, tenant, { encrypt: options.encrypt });
  const t = await Tenant.open(config, tenant, { keystore, write: true });
  const node = {
    dir: tmp.path,
    config,
    keystore,
    tenant: t,
    async close() {
      await node.tenant?.close().catch(() => undefined);
      await tmp.cleanup();
    },
  };
  return node;
}

/** An empty data directory whose keystore trusts `source`'s signing keys (or a copy of its whole keystore, data keys included). */
export async function targetNode(source: Node, options: { copyKeys?: boolean; trust?: boolean } = {}): Promise<Node> {
  const tmp = await tempDir("rem-arch-dst-");
  let keystore: Keystore;
  if (options.copyKeys) {
    await cp(join(source.dir, "keys"), join(tmp.path, "keys"), { recursive: true });
    keystore = await Keystore.unlock(join(tmp.path, "keys"), PASS);
  } else {
    keystore = await Keystore.create(join(tmp.path, "keys"), PASS, { logN: 10 });
    await keystore.generateSigningKey();
    if (options.trust !== false) for (const k of source.keystore.listTrusted()) await keystore.trust(k.publicKey, "source");
  }
  return {
    dir: tmp.path,
    config: resolveConfig({ data: tmp.path, tenant: source.config.tenant }, {}),
    keystore,
    tenant: null,
    async close() {
      await tmp.cleanup();
    },
  };
}

export const NOTES_SCHEMA = {
  title: "Note",
  type: "object",
  properties: { uri: { type: "string" }, content: { type: "string" }, category: { type: "string" }, n: { type: "integer" } },
  json_schema_extra: { name: "notes", key_field: "uri", embedding_fields: ["content"], indexed_fields: ["category", "n"] },
};

const WORDS = ["memory", "agent", "graph", "vector", "archive", "restore", "replica", "stream", "segment", "chain", "signature", "tenant"];

/** Writes a varied history: a schema, inserts (embedded), updates, deletes, edges. Returns the entity ids. */
export async function populate(t: Tenant, rounds: number, start = 0): Promise<string[]> {
  if (t.store.schemaSpec("notes") === undefined) await registerSchema(t, NOTES_SCHEMA);
  const ids: string[] = [];
  for (let r = start; r < start + rounds; r++) {
    const objs = Array.from({ length: 5 }, (_, i) => ({
      uri: `doc://${r}/${i}`,
      content: `${WORDS[(r + i) % WORDS.length]} ${WORDS[(r * 3 + i) % WORDS.length]} note ${r}.${i}`,
      category: ["a", "b", "c"][(r + i) % 3],
      n: r * 10 + i,
    }));
    const res = await insertEntities(t, "notes", objs);
    ids.push(...res.ids);
    if (ids.length > 3) await addEdge(t, ids[ids.length - 1]!, ids[ids.length - 4]!, "links_to", { r });
    if (r % 3 === 2) await deleteEntity(t, ids[ids.length - 2]!);
    if (r % 4 === 1) await insertEntities(t, "notes", [{ uri: `doc://${r}/0`, content: `updated ${WORDS[r % WORDS.length]} ${r}`, category: "z", n: -r }]);
  }
  return ids;
}

/** Every projection family but metadata and the HNSW change log (internal bookkeeping), as comparable text. */
export function dumpStore(store: ProjectionStore): Promise<string[]> {
  return dumpAll(store, { omit: ["vlog"] });
}

/** Search results (ids and scores) for a few queries: the HNSW indexes answer them. */
export async function searches(t: Tenant): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const text of ["memory agent", "archive restore", "vector graph", "signature chain"]) {
    const r = await searchEntities(t, { schema: "notes", text, topK: 5 });
    // 4 decimals: a vector still waiting for its graph insert is scored in JS (float64 sums), one in the graph by hnswlib (float32).
    out.push(r.hits.map((h) => [h.id, h.score.toFixed(4)]));
  }
  return out;
}

/** Opens a restored tenant read-only (caught up). */
export function openRestored(node: Node, tenant: TenantName): Promise<Tenant> {
  return Tenant.open(node.config, tenant, { keystore: node.keystore, write: false });
}

/** The tenant restored into `target` holds exactly what `source`'s projection store holds. */
export async function expectRestoredEqual(target: Node, source: Node & { tenant: Tenant }): Promise<void> {
  const restored = await openRestored(target, source.tenant.name);
  try {
    expect(await dumpStore(restored.store)).toEqual(await dumpStore(source.tenant.store));
  } finally {
    await restored.close();
  }
}

/** Every key in the bucket under the store's root, and every object the tenant's manifest references exists with its size. */
export async function checkManifestObjects(store: ObjectStore, tenant: string): Promise<{ keys: string[]; referenced: number }> {
  const listed = await store.list("");
  const sizes = new Map(listed.map((o) => [o.key, o.size]));
  const raw = await store.get(`${tenant}/manifest.json`).catch(() => null);
  if (raw === null) return { keys: listed.map((o) => o.key), referenced: 0 };
  const m = JSON.parse(Buffer.from(raw).toString("utf8")) as { segments: { key: string; bytes: number }[]; snapshots: { objects: { key: string; bytes: number }[] }[] };
  const refs = [...m.segments, ...m.snapshots.flatMap((s) => s.objects)];
  for (const r of refs) expect(sizes.get(`${tenant}/${r.key}`), `${r.key} referenced by the manifest`).toBe(r.bytes);
  return { keys: listed.map((o) => o.key), referenced: refs.length };
}
