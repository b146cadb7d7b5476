import type { Command } from "commander";
import type { RemConfig } from "../config/config.js";
import { openKeystore } from "../node/open-log.js";
import { readTenantMeta } from "../node/tenant-meta.js";
import { Tenant } from "../node/tenant.js";
import { configOf } from "./context.js";

/**
 * Opens the command's tenant (log + projections, caught up), runs `fn`, closes it.
 * Writes unlock the keystore (the passphrase is required); reads unlock it only
 * when a passphrase is given (needed to catch up an encrypted tenant).
 */
export async function withTenant<T>(
  cmd: Command,
  mode: "read" | "write",
  fn: (tenant: Tenant, config: RemConfig) => Promise<T>,
  options: { sync?: boolean } = {},
): Promise<T> {
  const config = configOf(cmd);
  const meta = await readTenantMeta(config.dataDir, config.tenant);
  const unlock = mode === "write" || (meta?.encrypted === true && config.passphrase !== undefined);
  const keystore = await openKeystore(config, unlock);
  const tenant = await Tenant.open(config, config.tenant, { keystore, write: mode === "write", sync: options.sync });
  try {
    return await fn(tenant, config);
  } finally {
    await tenant.close();
  }
}
