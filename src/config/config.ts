import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { tenantName, type TenantName } from "../../events/model/ids.js";

/**
 * Node configuration, from flags first, then environment, then defaults:
 *   --data DIR   REM_DATA       default ~/.rem
 *   --tenant T   REM_TENANT     default "default"
 *   --nats URL   REM_NATS_URL   default: none (the embedded file log)
 *   --password P REM_PASSPHRASE the keystore passphrase
 */
export interface RemConfig {
  readonly dataDir: string;
  readonly tenant: TenantName;
  readonly natsUrl: string | undefined;
  readonly passphrase: string | undefined;
}

export interface ConfigFlags {
  data?: string | undefined;
  tenant?: string | undefined;
  nats?: string | undefined;
  password?: string | undefined;
}

export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): RemConfig {
  const data = flags.data ?? env.REM_DATA ?? join(homedir(), ".rem");
  return {
    dataDir: resolve(data),
    tenant: tenantName(flags.tenant ?? env.REM_TENANT ?? "default"),
    natsUrl: nonEmpty(flags.nats ?? env.REM_NATS_URL),
    passphrase: nonEmpty(flags.password ?? env.REM_PASSPHRASE),
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** Where things live under the data directory. */
export const layout = {
  keys: (dataDir: string) => join(dataDir, "keys"),
  tenants: (dataDir: string) => join(dataDir, "tenants"),
  tenant: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant),
  tenantMeta: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant, "tenant.json"),
  log: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant, "log"),
  projections: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant, "projections"),
  store: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant, "projections", "store"),
  vectors: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant, "projections", "vectors"),
  exports: (dataDir: string, tenant: TenantName) => join(dataDir, "tenants", tenant, "projections", "exports"),
} as const;
