import { layout, type RemConfig } from "../config/config.js";
import { RemError } from "../errors.js";
import { Keystore } from "../../events/keys/keystore.js";
import type { TenantName } from "../../events/model/ids.js";
import type { NatsConnection } from "@nats-io/nats-core";
import { FileLog } from "../../events/log/file/file-log.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import type { BackendKind, LogBackend } from "../../events/log/types.js";
import { requireTenantMeta } from "./tenant-meta.js";

/** How long opening waits for a lock held by another REM process. */
export const LOCK_WAIT_MS = 5_000;

export function backendKind(config: RemConfig): BackendKind {
  return config.natsUrl === undefined ? "file" : "jetstream";
}

/**
 * Opens the keystore: unlocked with the passphrase when `unlock` (to sign or
 * decrypt), otherwise public-only (to verify).
 */
export async function openKeystore(config: RemConfig, unlock: boolean): Promise<Keystore> {
  const dir = layout.keys(config.dataDir);
  if (!unlock) return Keystore.openPublic(dir);
  if (config.passphrase === undefined) {
    throw new RemError("REM_ERR_PASSPHRASE_REQUIRED", "this needs the keystore passphrase: set REM_PASSPHRASE or pass --password", { path: dir });
  }
  return Keystore.unlock(dir, config.passphrase);
}

export interface OpenBackendOptions {
  /** Take the embedded log's writer lock and repair a torn tail (file backend). */
  readonly write: boolean;
  /** Create the JetStream stream when missing (init only). */
  readonly create?: boolean;
  /** A NATS connection to share (a server with many tenants); default: a connection of its own. */
  readonly nats?: NatsConnection;
}

/** Opens the tenant's backend on this node's configured transport. */
export async function openBackend(config: RemConfig, tenant: TenantName, options: OpenBackendOptions): Promise<LogBackend> {
  if (config.natsUrl === undefined) {
    // Short CLI commands may overlap: wait a little for another process's writer lock.
    return FileLog.open({ dir: layout.log(config.dataDir, tenant), tenant, readOnly: !options.write, lockWaitMs: LOCK_WAIT_MS });
  }
  // Loaded on demand: the NATS client is a large import that embedded-only runs never need.
  const { connectNats } = await import("../../events/log/jetstream/connect.js");
  const { JetStreamLog } = await import("../../events/log/jetstream/jetstream-log.js");
  if (options.nats !== undefined) return JetStreamLog.open({ nc: options.nats, tenant, create: options.create ?? false, ownsConnection: false });
  const nc = await connectNats(config.natsUrl);
  try {
    return await JetStreamLog.open({ nc, tenant, create: options.create ?? false, ownsConnection: true });
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}

export interface OpenTenantLogOptions {
  readonly keystore: Keystore;
  /** Open for appending: needs an unlocked keystore. */
  readonly write: boolean;
  /** A NATS connection to share (see OpenBackendOptions). */
  readonly nats?: NatsConnection;
}

/** Opens an initialised tenant's log with its keys: the one way the CLI and server reach a log. */
export async function openTenantLog(config: RemConfig, tenant: TenantName, options: OpenTenantLogOptions): Promise<TenantLog> {
  const meta = await requireTenantMeta(config.dataDir, tenant);
  const kind = backendKind(config);
  if (meta.backend !== kind) {
    throw new RemError(
      "REM_ERR_INVALID_ARGUMENT",
      meta.backend === "file"
        ? `tenant ${tenant} lives in the embedded log of ${config.dataDir}; drop --nats/REM_NATS_URL to use it`
        : `tenant ${tenant} lives on NATS JetStream; pass --nats URL (or set REM_NATS_URL)`,
      { tenant, field: "nats" },
    );
  }
  const { keystore, write } = options;
  if (write && meta.shredded_at !== undefined) {
    throw new RemError("REM_ERR_KEY_SHREDDED", `tenant ${tenant} was shredded at ${meta.shredded_at}; it takes no more writes`, { tenant });
  }
  const signer = write ? await keystore.signer() : undefined;
  const encryptWith = write && meta.encrypted ? await keystore.activeDataKey(tenant) : undefined;
  if (encryptWith === null) {
    throw new RemError("REM_ERR_KEY_NOT_FOUND", `tenant ${tenant} is encrypted but this keystore has no active data key for it`, { tenant });
  }
  const dataKeys = await keystore.tenantKeys(tenant);
  const backend = await openBackend(config, tenant, { write, nats: options.nats });
  try {
    return await TenantLog.open({ backend, trusted: keystore.trustedKeys(), signer, encryptWith, dataKeys });
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
}
