import type { Command } from "commander";
import { layout } from "../../config/config.js";
import { RemError } from "../../errors.js";
import { Keystore } from "../../../events/keys/keystore.js";
import { initTenant } from "../../node/init-tenant.js";
import { configOf, intFlag } from "../context.js";
import { note, printJson } from "../output.js";
import { withPassphrase } from "../passphrase.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("initialise the data directory and a tenant (creates the keystore and signing key when missing)")
    .option("--encrypt", "encrypt the tenant's log with a new data key (ChaCha20-Poly1305)")
    .option("--kdf-cost <log2N>", "scrypt cost for a new keystore (log2 of N, default 17 = 128 MiB)", intFlag("kdf-cost", 10))
    .action(async (opts: { encrypt?: boolean; kdfCost?: number }, cmd: Command) => {
      const config = await withPassphrase(configOf(cmd), "keystore passphrase: ");
      const keysDir = layout.keys(config.dataDir);
      if (config.passphrase === undefined) {
        throw new RemError("REM_ERR_PASSPHRASE_REQUIRED", "rem init needs the keystore passphrase: set REM_PASSPHRASE or pass --password", { path: keysDir });
      }
      let keystore: Keystore;
      if (await Keystore.exists(keysDir)) {
        keystore = await Keystore.unlock(keysDir, config.passphrase);
      } else {
        keystore = await Keystore.create(keysDir, config.passphrase, { logN: opts.kdfCost });
        note(`created keystore in ${keysDir}`);
      }
      if (keystore.activeSigningKeyId === null) {
        const { keyId } = await keystore.generateSigningKey();
        note(`created signing key ${keyId}`);
      }
      const result = await initTenant(config, keystore, config.tenant, { encrypt: opts.encrypt === true });
      printJson({ ...result, data_dir: config.dataDir });
    });
}
