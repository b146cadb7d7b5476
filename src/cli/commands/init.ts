import type { Command } from "commander";
import { layout } from "../../config/config.js";
import { RemError } from "../../errors.js";
import { Keystore } from "../../../events/keys/keystore.js";
import type { Event } from "../../../events/model/events.js";
import { randomUUID } from "node:crypto";
import { CORE_SCHEMAS } from "../../../schema/core/core-schemas.js";
import { parseSchema } from "../../../schema/definition.js";
import { backendKind, openBackend, openTenantLog } from "../../node/open-log.js";
import { readTenantMeta, writeTenantMeta } from "../../node/tenant-meta.js";
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
      const tenant = config.tenant;
      const kind = backendKind(config);
      let meta = await readTenantMeta(config.dataDir, tenant);
      const fresh = meta === null;
      if (meta === null) {
        if (opts.encrypt) await keystore.createDataKey(tenant);
        // Creates the log directory or the JetStream stream.
        await (await openBackend(config, tenant, { write: true, create: true })).close();
        meta = { v: 1, tenant, created_at: new Date().toISOString(), backend: kind, encrypted: opts.encrypt === true };
        await writeTenantMeta(config.dataDir, meta);
      } else if (opts.encrypt && !meta.encrypted) {
        throw new RemError(
          "REM_ERR_ALREADY_EXISTS",
          `tenant ${tenant} already exists without encryption; encryption is chosen when a tenant is created (its earlier commits would stay readable after a shred)`,
          { tenant },
        );
      }
      const log = await openTenantLog(config, tenant, { keystore, write: true });
      try {
        let head = await log.head();
        if (head.seq === 0) {
          // The genesis commit records which keys sign and encrypt this tenant, and registers the core schemas.
          const signer = await keystore.signer();
          const events: Event[] = [
            { type: "key.rotated", v: 1, id: randomUUID(), purpose: "signing", key_id: signer.keyId, public_key: signer.publicKey, previous_key_id: null },
          ];
          const dataKey = meta.encrypted ? await keystore.activeDataKey(tenant) : null;
          if (dataKey) events.push({ type: "key.rotated", v: 1, id: randomUUID(), purpose: "data", key_id: dataKey.keyId, previous_key_id: null });
          for (const definition of CORE_SCHEMAS) {
            events.push({ type: "schema.registered", v: 1, id: randomUUID(), name: parseSchema(definition).name, definition });
          }
          await log.append(events);
          head = await log.head();
        }
        const dataKey = meta.encrypted ? (await keystore.listDataKeys(tenant)).find((k) => k.active)?.keyId ?? null : null;
        printJson({
          tenant,
          data_dir: config.dataDir,
          backend: kind,
          encrypted: meta.encrypted,
          created: fresh,
          signing_key: keystore.activeSigningKeyId,
          data_key: dataKey,
          seq: head.seq,
        });
      } finally {
        await log.close();
      }
    });
}
