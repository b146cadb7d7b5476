import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { layout } from "../../config/config.js";
import { RemError } from "../../errors.js";
import { Keystore } from "../../../events/keys/keystore.js";
import { openKeystore } from "../../node/open-log.js";
import { configOf, intFlag } from "../context.js";
import { note, printJson } from "../output.js";
import { withPassphrase } from "../passphrase.js";

export function registerKeys(program: Command): void {
  program
    .command("key-gen")
    .description("create the node's Ed25519 signing key, its private half sealed by the passphrase (scrypt + ChaCha20-Poly1305)")
    .option("--rotate", "make a new signing key even if one exists (older keys stay trusted for old commits)")
    .option("--kdf-cost <log2N>", "scrypt cost for a new keystore (log2 of N, default 17 = 128 MiB)", intFlag("kdf-cost", 10))
    .action(async (opts: { rotate?: boolean; kdfCost?: number }, cmd: Command) => {
      const config = await withPassphrase(configOf(cmd), "keystore passphrase: ");
      const dir = layout.keys(config.dataDir);
      if (config.passphrase === undefined) {
        throw new RemError("REM_ERR_PASSPHRASE_REQUIRED", "rem key-gen needs a passphrase: set REM_PASSPHRASE or pass --password", { path: dir });
      }
      const exists = await Keystore.exists(dir);
      const keystore = exists ? await Keystore.unlock(dir, config.passphrase) : await Keystore.create(dir, config.passphrase, { logN: opts.kdfCost });
      if (keystore.activeSigningKeyId !== null && !opts.rotate) {
        throw new RemError("REM_ERR_ALREADY_EXISTS", `this node already has signing key ${keystore.activeSigningKeyId}; pass --rotate to make a new one`, {
          keyId: keystore.activeSigningKeyId,
        });
      }
      const previous = keystore.activeSigningKeyId;
      const { keyId, publicKey } = await keystore.generateSigningKey();
      if (!exists) note(`created keystore in ${dir}`);
      printJson({ key_id: keyId, public_key: Buffer.from(publicKey).toString("base64"), previous_key_id: previous, keystore: dir });
    });

  const key = program.command("key").description("inspect and manage keys");

  key
    .command("list")
    .description("list signing keys, trusted keys and the tenant's data keys")
    .action(async (_opts: object, cmd: Command) => {
      const config = configOf(cmd);
      const keystore = await openKeystore(config, false);
      printJson({
        signing_key: keystore.activeSigningKeyId,
        trusted: keystore.listTrusted().map((k) => ({ key_id: k.keyId, public_key: Buffer.from(k.publicKey).toString("base64") })),
        tenant: config.tenant,
        data_keys: (await keystore.listDataKeys(config.tenant)).map((k) => ({ key_id: k.keyId, created_at: k.createdAt, shredded_at: k.shreddedAt, active: k.active })),
      });
    });

  key
    .command("export-public")
    .description("print the active signing key's public half, for `rem key trust` on replicas")
    .action(async (_opts: object, cmd: Command) => {
      const keystore = await openKeystore(configOf(cmd), false);
      const id = keystore.activeSigningKeyId;
      const k = id === null ? undefined : keystore.trustedKeys().get(id);
      if (k === undefined) throw new RemError("REM_ERR_NOT_INITIALIZED", "this node has no signing key: run `rem key-gen`");
      printJson({ key_id: k.keyId, public_key: Buffer.from(k.publicKey).toString("base64") });
    });

  key
    .command("trust <public-key>")
    .description("accept signatures by another writer: a base64 Ed25519 public key, or a file written by `rem key export-public`")
    .option("--label <text>", "a note stored with the key", "trusted writer")
    .action(async (input: string, opts: { label: string }, cmd: Command) => {
      const keystore = await openKeystore(configOf(cmd), false);
      let b64 = input;
      if (!/^[A-Za-z0-9+/]{43}=$/.test(input)) {
        const text = await readFile(input, "utf8").catch(() => {
          throw new RemError("REM_ERR_INVALID_ARGUMENT", `${input} is neither a base64 public key nor a readable file`, { field: "public-key" });
        });
        try {
          b64 = (JSON.parse(text) as { public_key: string }).public_key;
        } catch {
          b64 = text.trim();
        }
      }
      const raw = new Uint8Array(Buffer.from(b64, "base64"));
      if (raw.length !== 32) throw new RemError("REM_ERR_INVALID_ARGUMENT", `an Ed25519 public key is 32 bytes, got ${raw.length}`, { field: "public-key" });
      const keyId = await keystore.trust(raw, opts.label);
      printJson({ key_id: keyId, trusted: true });
    });
}
