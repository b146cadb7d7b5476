import { join } from "node:path";
import { resolveConfig, type RemConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import { writeTenantMeta } from "../../src/node/tenant-meta.js";
import { Tenant } from "../../src/node/tenant.js";
import { tempDir } from "./tmp.js";

export interface TenantFixture {
  readonly dir: string;
  readonly config: RemConfig;
  tenant: Tenant;
  /** Closes and opens the tenant again (as a restart would). */
  reopen(): Promise<Tenant>;
  close(): Promise<void>;
}

/** A node data directory with one initialised tenant on the embedded log, opened for writing. */
export async function tenantFixture(name = "t"): Promise<TenantFixture> {
  const tmp = await tempDir("rem-tenant-");
  const keystore = await Keystore.create(join(tmp.path, "keys"), "fixture passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  const tenant: TenantName = tenantName(name);
  await writeTenantMeta(tmp.path, { v: 1, tenant, created_at: new Date().toISOString(), backend: "file", encrypted: false });
  const config = resolveConfig({ data: tmp.path }, {});
  const open = () => Tenant.open(config, tenant, { keystore, write: true });
  const fx: TenantFixture = {
    dir: tmp.path,
    config,
    tenant: await open(),
    async reopen() {
      await fx.tenant.close();
      fx.tenant = await open();
      return fx.tenant;
    },
    async close() {
      await fx.tenant.close().catch(() => undefined);
      await tmp.cleanup();
    },
  };
  return fx;
}
