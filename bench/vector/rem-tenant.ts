import { join } from "node:path";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName, type TenantName } from "../../events/model/ids.js";
import { layout, resolveConfig, type RemConfig } from "../../src/config/config.js";
import { writeTenantMeta } from "../../src/node/tenant-meta.js";
import { Tenant } from "../../src/node/tenant.js";

/** A node data directory with one tenant on the embedded log, and a way to reopen it (as a restart would). */
export interface BenchTenant {
  tenant: Tenant;
  readonly vectorsDir: string;
  /** Closes the tenant (which snapshots its vector indexes if they changed): seconds. */
  close(): Promise<number>;
  /** Opens it again (the store catches up with the log; vectors load on first use). */
  open(): Promise<Tenant>;
}

export async function createBenchTenant(dir: string): Promise<BenchTenant> {
  const keystore = await Keystore.create(join(dir, "keys"), "bench passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  const name: TenantName = tenantName("bench");
  await writeTenantMeta(dir, { v: 1, tenant: name, created_at: new Date().toISOString(), backend: "file", encrypted: false });
  const config: RemConfig = resolveConfig({ data: dir }, {});
  const bt: BenchTenant = {
    tenant: await Tenant.open(config, name, { keystore, write: true }),
    vectorsDir: layout.vectors(config.dataDir, name),
    async close() {
      const t0 = performance.now();
      await bt.tenant.close();
      return (performance.now() - t0) / 1000;
    },
    async open() {
      bt.tenant = await Tenant.open(config, name, { keystore, write: true });
      return bt.tenant;
    },
  };
  return bt;
}
