import { randomBytes } from "node:crypto";
import { open, readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { RemError } from "../../src/errors.js";
import type { TrustedKeys } from "../chain-verifier.js";
import type { DataKey } from "../commit-builder.js";
import { keyId as toKeyId, type KeyId, type TenantName } from "../model/ids.js";
import type { DataKeyResolver } from "../payload.js";
import { generateSigningSeed, signerFromSeed, verifyKeyFromPublic, type Signer, type VerifyKey } from "../signing.js";
import { utf8 } from "../hash.js";
import { readJson, syncDirectory, writeFileDurable } from "./files.js";
import { deriveKek, newScryptParams, type ScryptParams } from "./kdf.js";
import { openSecret, sealSecret, type SealedBox } from "./sealed.js";

interface KeystoreFile {
  v: 1;
  kdf: ScryptParams;
  /** A known plaintext sealed under the KEK: tells a wrong passphrase apart from damaged key files. */
  check: SealedBox;
  active_signing_key: string | null;
  created_at: string;
}

interface SigningKeyFile {
  v: 1;
  key_id: string;
  alg: "ed25519";
  public_key: string;
  sealed_seed: SealedBox;
  created_at: string;
}

interface TrustedKeyFile {
  v: 1;
  key_id: string;
  alg: "ed25519";
  public_key: string;
  label: string;
  added_at: string;
}

type DataKeyFile =
  | { v: 1; key_id: string; tenant: string; created_at: string; sealed_key: SealedBox }
  | { v: 1; key_id: string; tenant: string; created_at: string; shredded_at: string };

export interface DataKeyInfo {
  readonly keyId: KeyId;
  readonly createdAt: string;
  readonly shreddedAt: string | null;
  readonly active: boolean;
}

const CHECK_PLAINTEXT = utf8("rem-keystore-v1");

/**
 * The node's keys, under `<data>/keys/`:
 *   keystore.json              KDF parameters, passphrase check, active signing key
 *   signing/<key id>.json      Ed25519 signing keys, seed sealed under the KEK
 *   trusted/<key id>.json      public keys whose signatures this node accepts
 *   tenants/<tenant>/<id>.json tenant data keys, sealed; or a tombstone once shredded
 *   tenants/<tenant>/ACTIVE    the data key new commits are encrypted under
 *
 * The key-encryption key (KEK) is derived from the passphrase with scrypt. A
 * keystore opened without the passphrase can verify (trusted public keys) but
 * not sign or decrypt.
 */
export class Keystore {
  readonly dir: string;
  #meta: KeystoreFile;
  #kek: Uint8Array | null;
  #trusted = new Map<string, VerifyKey>();
  #signer: Signer | null = null;

  private constructor(dir: string, meta: KeystoreFile, kek: Uint8Array | null) {
    this.dir = dir;
    this.#meta = meta;
    this.#kek = kek;
  }

  static async exists(dir: string): Promise<boolean> {
    return (await stat(join(dir, "keystore.json")).catch(() => null)) !== null;
  }

  /** Creates an empty keystore sealed by `passphrase`. */
  static async create(dir: string, passphrase: string, options: { logN?: number } = {}): Promise<Keystore> {
    if (await Keystore.exists(dir)) throw new RemError("REM_ERR_ALREADY_EXISTS", `a keystore already exists at ${dir}`, { path: dir });
    checkPassphrase(passphrase);
    const kdf = newScryptParams(options.logN);
    const kek = await deriveKek(passphrase, kdf);
    const meta: KeystoreFile = { v: 1, kdf, check: sealSecret(kek, "check", CHECK_PLAINTEXT), active_signing_key: null, created_at: new Date().toISOString() };
    await writeFileDurable(join(dir, "keystore.json"), JSON.stringify(meta, null, 2));
    return new Keystore(dir, meta, kek);
  }

  /** Opens the keystore with its passphrase: signing and decryption become possible. */
  static async unlock(dir: string, passphrase: string): Promise<Keystore> {
    const meta = await Keystore.#readMeta(dir);
    const kek = await deriveKek(passphrase, meta.kdf);
    if (openSecret(kek, "check", meta.check) === null) {
      throw new RemError("REM_ERR_BAD_PASSPHRASE", `the passphrase does not unlock the keystore at ${dir}`, { path: dir });
    }
    const ks = new Keystore(dir, meta, kek);
    await ks.#loadTrusted();
    return ks;
  }

  /** Opens without the passphrase: trusted public keys only (enough to verify an unencrypted log). */
  static async openPublic(dir: string): Promise<Keystore> {
    const ks = new Keystore(dir, await Keystore.#readMeta(dir), null);
    await ks.#loadTrusted();
    return ks;
  }

  static async #readMeta(dir: string): Promise<KeystoreFile> {
    const meta = await readJson<KeystoreFile>(join(dir, "keystore.json"));
    if (meta === null) throw new RemError("REM_ERR_NOT_INITIALIZED", `no keystore at ${dir}: run \`rem key-gen\` (or \`rem init\`)`, { path: dir });
    if (meta.v !== 1) throw new RemError("REM_ERR_UNSUPPORTED_VERSION", `keystore version ${String(meta.v)} is not supported`, { path: dir });
    return meta;
  }

  get unlocked(): boolean {
    return this.#kek !== null;
  }

  get activeSigningKeyId(): KeyId | null {
    return this.#meta.active_signing_key === null ? null : toKeyId(this.#meta.active_signing_key);
  }

  /** Public keys whose signatures are accepted. */
  trustedKeys(): TrustedKeys {
    return this.#trusted;
  }

  listTrusted(): VerifyKey[] {
    return [...this.#trusted.values()];
  }

  /** Adds a public key to the trusted set; returns its key id. */
  async trust(publicKey: Uint8Array, label: string): Promise<KeyId> {
    const key = verifyKeyFromPublic(publicKey);
    const file: TrustedKeyFile = { v: 1, key_id: key.keyId, alg: "ed25519", public_key: Buffer.from(publicKey).toString("base64"), label, added_at: new Date().toISOString() };
    await writeFileDurable(join(this.dir, "trusted", `${key.keyId}.json`), JSON.stringify(file, null, 2), 0o644);
    this.#trusted.set(key.keyId, key);
    return key.keyId;
  }

  /** Makes a new signing key, trusts it and makes it the active one (older keys stay trusted for old commits). */
  async generateSigningKey(): Promise<{ keyId: KeyId; publicKey: Uint8Array }> {
    const kek = this.#requireKek("generating a signing key");
    const { seed, publicKey } = generateSigningSeed();
    const signer = signerFromSeed(seed);
    const file: SigningKeyFile = {
      v: 1,
      key_id: signer.keyId,
      alg: "ed25519",
      public_key: Buffer.from(publicKey).toString("base64"),
      sealed_seed: sealSecret(kek, `signing/${signer.keyId}`, seed),
      created_at: new Date().toISOString(),
    };
    await writeFileDurable(join(this.dir, "signing", `${signer.keyId}.json`), JSON.stringify(file, null, 2));
    await this.trust(publicKey, "own signing key");
    this.#meta = { ...this.#meta, active_signing_key: signer.keyId };
    await writeFileDurable(join(this.dir, "keystore.json"), JSON.stringify(this.#meta, null, 2));
    this.#signer = signer;
    return { keyId: signer.keyId, publicKey };
  }

  /** The active signing key, unsealed. */
  async signer(): Promise<Signer> {
    if (this.#signer) return this.#signer;
    const kek = this.#requireKek("signing commits");
    const id = this.#meta.active_signing_key;
    if (id === null) throw new RemError("REM_ERR_NOT_INITIALIZED", "this node has no signing key: run `rem key-gen`", { path: this.dir });
    const file = await readJson<SigningKeyFile>(join(this.dir, "signing", `${id}.json`));
    if (file === null) throw new RemError("REM_ERR_KEYSTORE", `signing key ${id} is missing from ${this.dir}/signing`, { keyId: id });
    const seed = openSecret(kek, `signing/${id}`, file.sealed_seed);
    if (seed === null) throw new RemError("REM_ERR_KEYSTORE", `signing key ${id} does not unseal (file damaged or replaced)`, { keyId: id });
    const signer = signerFromSeed(seed);
    if (signer.keyId !== id) throw new RemError("REM_ERR_KEYSTORE", `signing key file ${id} holds key ${signer.keyId}`, { keyId: id });
    this.#signer = signer;
    return signer;
  }

  /** Creates a tenant data key and makes it the one new commits are encrypted under. */
  async createDataKey(tenant: TenantName): Promise<DataKey> {
    const kek = this.#requireKek("creating a data key");
    const key = new Uint8Array(randomBytes(32));
    const id = toKeyId(randomBytes(8).toString("hex"));
    const file: DataKeyFile = { v: 1, key_id: id, tenant, created_at: new Date().toISOString(), sealed_key: sealSecret(kek, `data/${tenant}/${id}`, key) };
    await writeFileDurable(join(this.#tenantDir(tenant), `${id}.json`), JSON.stringify(file, null, 2));
    await writeFileDurable(join(this.#tenantDir(tenant), "ACTIVE"), id);
    return { keyId: id, key };
  }

  /** The data key new commits of `tenant` are encrypted under, or null when the tenant is not encrypted. */
  async activeDataKey(tenant: TenantName): Promise<DataKey | null> {
    const active = await readText(join(this.#tenantDir(tenant), "ACTIVE"));
    if (active === null) return null;
    const resolver = await this.tenantKeys(tenant);
    return { keyId: toKeyId(active), key: resolver.dataKey(tenant, toKeyId(active), 0) };
  }

  /** Loads every data key of `tenant` (and tombstones) for decrypting its log. */
  async tenantKeys(tenant: TenantName): Promise<DataKeyResolver> {
    const files = await this.#dataKeyFiles(tenant);
    const keys = new Map<string, Uint8Array>();
    const shredded = new Map<string, string>();
    const kek = this.#kek;
    for (const f of files) {
      if ("shredded_at" in f) {
        shredded.set(f.key_id, f.shredded_at);
      } else if (kek !== null) {
        const key = openSecret(kek, `data/${tenant}/${f.key_id}`, f.sealed_key);
        if (key === null) throw new RemError("REM_ERR_KEYSTORE", `data key ${f.key_id} of tenant ${tenant} does not unseal (file damaged or replaced)`, { tenant, keyId: f.key_id });
        keys.set(f.key_id, key);
      }
    }
    const locked = kek === null;
    return {
      dataKey(t: TenantName, id: KeyId, seq: number): Uint8Array {
        const key = t === tenant ? keys.get(id) : undefined;
        if (key !== undefined) return key;
        const when = t === tenant ? shredded.get(id) : undefined;
        if (when !== undefined) {
          throw new RemError("REM_ERR_KEY_SHREDDED", `tenant ${t}: data key ${id} was shredded at ${when}; commit ${seq} can never be decrypted`, { tenant: t, seq, keyId: id });
        }
        throw new RemError(
          "REM_ERR_KEY_NOT_FOUND",
          locked
            ? `tenant ${t}: commit ${seq} is encrypted; unlock the keystore with the passphrase (REM_PASSPHRASE or --password) to read it`
            : `tenant ${t}: data key ${id} for commit ${seq} is not in this keystore`,
          { tenant: t, seq, keyId: id },
        );
      },
    };
  }

  async listDataKeys(tenant: TenantName): Promise<DataKeyInfo[]> {
    const active = await readText(join(this.#tenantDir(tenant), "ACTIVE"));
    return (await this.#dataKeyFiles(tenant)).map((f) => ({
      keyId: toKeyId(f.key_id),
      createdAt: f.created_at,
      shreddedAt: "shredded_at" in f ? f.shredded_at : null,
      active: f.key_id === active,
    }));
  }

  /**
   * Crypto-shredding: destroys every data key of `tenant`. The key bytes are
   * overwritten in place and fsynced before the file is replaced by a tombstone,
   * so every copy of the log encrypted under them (segments, JetStream, archives)
   * becomes unreadable. Returns the ids destroyed. See docs/operations.md for what
   * this cannot reach (other nodes' keystores, filesystem snapshots).
   */
  async shred(tenant: TenantName): Promise<KeyId[]> {
    const dir = this.#tenantDir(tenant);
    const destroyed: KeyId[] = [];
    for (const f of await this.#dataKeyFiles(tenant)) {
      if ("shredded_at" in f) continue;
      const path = join(dir, `${f.key_id}.json`);
      const fh = await open(path, "r+");
      try {
        const { size } = await fh.stat();
        await fh.write(randomBytes(size), 0, size, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const tomb: DataKeyFile = { v: 1, key_id: f.key_id, tenant, created_at: f.created_at, shredded_at: new Date().toISOString() };
      await writeFileDurable(path, JSON.stringify(tomb, null, 2));
      destroyed.push(toKeyId(f.key_id));
    }
    await unlink(join(dir, "ACTIVE")).catch(() => undefined);
    await syncDirectory(dir).catch(() => undefined);
    return destroyed;
  }

  #tenantDir(tenant: TenantName): string {
    return join(this.dir, "tenants", tenant);
  }

  async #dataKeyFiles(tenant: TenantName): Promise<DataKeyFile[]> {
    let names: string[];
    try {
      names = await readdir(this.#tenantDir(tenant));
    } catch {
      return [];
    }
    const out: DataKeyFile[] = [];
    for (const name of names.filter((n) => /^[0-9a-f]{16}\.json$/.test(n)).sort()) {
      const f = await readJson<DataKeyFile>(join(this.#tenantDir(tenant), name));
      if (f !== null) out.push(f);
    }
    return out;
  }

  async #loadTrusted(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, "trusted"));
    } catch {
      return;
    }
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const f = await readJson<TrustedKeyFile>(join(this.dir, "trusted", name));
      if (f === null) continue;
      const key = verifyKeyFromPublic(new Uint8Array(Buffer.from(f.public_key, "base64")));
      if (key.keyId !== f.key_id) throw new RemError("REM_ERR_KEYSTORE", `trusted key file ${name} holds key ${key.keyId}, not ${f.key_id}`, { keyId: f.key_id });
      this.#trusted.set(key.keyId, key);
    }
  }

  #requireKek(what: string): Uint8Array {
    if (this.#kek === null) throw new RemError("REM_ERR_PASSPHRASE_REQUIRED", `${what} needs the keystore passphrase (REM_PASSPHRASE or --password)`, { path: this.dir });
    return this.#kek;
  }
}

function checkPassphrase(passphrase: string): void {
  if (passphrase.length < 8) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", "the passphrase must have at least 8 characters", { field: "passphrase" });
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return null;
  }
}
