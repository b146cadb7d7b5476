import { join } from "node:path";
import { resolveConfig, type RemConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import { initTenant } from "../../src/node/init-tenant.js";
import { Tenant } from "../../src/node/tenant.js";
import { registerSchema } from "../../src/node/writes.js";
import { prepareReplica } from "../../replay/replica/setup.js";
import { tempDir } from "../support/tmp.js";

export { eventually } from "../support/eventually.js";

export const NOTES = {
  title: "notes",
  type: "object",
  properties: { text: { type: "string" }, n: { type: "integer" }, tag: { type: "string" } },
  json_schema_extra: { name: "notes", key_field: "text", indexed_fields: ["n", "tag"] },
};

export const PASSPHRASE = "replica test passphrase";

export interface PrimaryNode {
  readonly dir: string;
  readonly config: RemConfig;
  readonly keystore: Keystore;
  readonly tenant: Tenant;
  readonly publicKey: Uint8Array;
  close(): Promise<void>;
}

/** A node that created `name` on NATS (stream, genesis, the notes schema) and holds it open for writing. */
export async function primaryNode(natsUrl: string, name = "acme"): Promise<PrimaryNode> {
  const tmp = await tempDir("rem-primary-");
  const keystore = await Keystore.create(join(tmp.path, "keys"), PASSPHRASE, { logN: 10 });
  const { publicKey } = await keystore.generateSigningKey();
  const config = resolveConfig({ data: tmp.path, nats: natsUrl }, {});
  const tenant: TenantName = tenantName(name);
  await initTenant(config, keystore, tenant);
  const t = await Tenant.open(config, tenant, { keystore, write: true });
  await registerSchema(t, NOTES);
  return {
    dir: tmp.path,
    config,
    keystore,
    tenant: t,
    publicKey,
    async close() {
      await t.close().catch(() => undefined);
      await tmp.cleanup();
    },
  };
}

export interface ReplicaNode {
  readonly dir: string;
  readonly config: RemConfig;
  readonly keystore: Keystore;
  open(): Promise<Tenant>;
  close(): Promise<void>;
}

/** A data directory of its own whose keystore trusts `trust` (the primary's signing key). */
export async function replicaNode(natsUrl: string, trust: Uint8Array | null, name = "acme"): Promise<ReplicaNode> {
  const tmp = await tempDir("rem-replica-");
  const keystore = await Keystore.create(join(tmp.path, "keys"), PASSPHRASE, { logN: 10 });
  if (trust !== null) await keystore.trust(trust, "primary");
  const config = resolveConfig({ data: tmp.path, nats: natsUrl, tenant: name }, {});
  const opened: Tenant[] = [];
  return {
    dir: tmp.path,
    config,
    keystore,
    async open() {
      await prepareReplica(config, tenantName(name));
      const t = await Tenant.open(config, tenantName(name), { keystore, write: false, sync: false });
      opened.push(t);
      return t;
    },
    async close() {
      for (const t of opened) await t.close().catch(() => undefined);
      await tmp.cleanup();
    },
  };
}
