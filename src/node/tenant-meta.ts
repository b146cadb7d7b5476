import { layout } from "../config/config.js";
import { RemError } from "../errors.js";
import { readJson, writeFileDurable } from "../../events/keys/files.js";
import type { TenantName } from "../../events/model/ids.js";
import type { BackendKind } from "../../events/log/types.js";

/** What `rem init` recorded about a tenant on this node. */
export interface TenantMeta {
  readonly v: 1;
  readonly tenant: TenantName;
  readonly created_at: string;
  /** The backend the tenant was created on; opening it on the other one is refused. */
  readonly backend: BackendKind;
  readonly encrypted: boolean;
  /** "replica": this node follows the tenant's stream and never appends (set by `rem replicate`). */
  readonly role?: "replica";
  /** Set by `rem tenant shred`. */
  readonly shredded_at?: string;
}

export async function readTenantMeta(dataDir: string, tenant: TenantName): Promise<TenantMeta | null> {
  return readJson<TenantMeta>(layout.tenantMeta(dataDir, tenant));
}

export async function requireTenantMeta(dataDir: string, tenant: TenantName): Promise<TenantMeta> {
  const meta = await readTenantMeta(dataDir, tenant);
  if (meta === null) {
    throw new RemError("REM_ERR_NOT_INITIALIZED", `tenant ${tenant} is not initialised in ${dataDir}: run \`rem init --tenant ${tenant}\``, { tenant });
  }
  return meta;
}

export async function writeTenantMeta(dataDir: string, meta: TenantMeta): Promise<void> {
  await writeFileDurable(layout.tenantMeta(dataDir, meta.tenant), JSON.stringify(meta, null, 2) + "\n", 0o644);
}
