import { rm } from "node:fs/promises";
import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { openKeystore } from "../../node/open-log.js";
import { requireTenantMeta, writeTenantMeta } from "../../node/tenant-meta.js";
import { configOf } from "../context.js";
import { printJson } from "../output.js";
import { withPassphrase } from "../passphrase.js";
import { layout } from "../../config/config.js";
import { join } from "node:path";

export function registerTenant(program: Command): void {
  const tenant = program.command("tenant").description("tenant lifecycle");

  tenant
    .command("shred")
    .description("crypto-shred an encrypted tenant: destroy its data keys so every copy of its log becomes unreadable")
    .option("--yes", "confirm: this cannot be undone")
    .action(async (opts: { yes?: boolean }, cmd: Command) => {
      const config = await withPassphrase(configOf(cmd), "keystore passphrase: ");
      const meta = await requireTenantMeta(config.dataDir, config.tenant);
      if (!meta.encrypted) {
        throw new RemError(
          "REM_ERR_INVALID_ARGUMENT",
          `tenant ${config.tenant} is not encrypted: shredding keys would not make its log unreadable (create tenants with \`rem init --encrypt\`)`,
          { tenant: config.tenant },
        );
      }
      if (!opts.yes) throw new RemError("REM_ERR_INVALID_ARGUMENT", `shredding tenant ${config.tenant} cannot be undone: pass --yes`, { tenant: config.tenant, field: "yes" });
      const keystore = await openKeystore(config, true);
      const destroyed = await keystore.shred(config.tenant);
      const shreddedAt = new Date().toISOString();
      await writeTenantMeta(config.dataDir, { ...meta, shredded_at: shreddedAt });
      // Projections hold decrypted data; they are derived, so they go too.
      await rm(join(layout.tenant(config.dataDir, config.tenant), "projections"), { recursive: true, force: true });
      printJson({ tenant: config.tenant, shredded_at: shreddedAt, destroyed_keys: destroyed });
    });
}
