import { randomUUID } from "node:crypto";
import type { RemConfig } from "../config/config.js";
import { RemError } from "../errors.js";
import type { Keystore } from "../../events/keys/keystore.js";
import type { Event } from "../../events/model/events.js";
import type { TenantName } from "../../events/model/ids.js";
import type { BackendKind } from "../../events/log/types.js";
import { CORE_SCHEMAS } from "../../schema/core/core-schemas.js";
import { parseSchema } from "../../schema/definition.js";
import { backendKind, openBackend, openTenantLog } from "./open-log.js";
import { readTenantMeta, writeTenantMeta } from "./tenant-meta.js";

export interface InitTenantResult {
  readonly tenant: TenantName;
  readonly backend: BackendKind;
  readonly encrypted: boolean;
  /** false when the tenant existed already (initialising is idempotent). */
  readonly created: boolean;
  readonly signing_key: string | null;
  readonly data_key: string | null;
  readonly seq: number;
}

/**
 * Creates a tenant on this node's backend (log directory or JetStream stream),
 * its data key when encrypted, and its genesis commit: the signing (and data)
 * key records and the core schemas. Idempotent: an existing tenant is reported
 * as it is; only encryption cannot be added afterwards.
 */
export async function initTenant(config: RemConfig, keystore: Keystore, tenant: TenantName, options: { encrypt?: boolean } = {}): Promise<InitTenantResult> {
  const kind = backendKind(config);
  let meta = await readTenantMeta(config.dataDir, tenant);
  const created = meta === null;
  if (meta === null) {
    if (options.encrypt) await keystore.createDataKey(tenant);
    await (await openBackend(config, tenant, { write: true, create: true })).close();
    meta = { v: 1, tenant, created_at: new Date().toISOString(), backend: kind, encrypted: options.encrypt === true };
    await writeTenantMeta(config.dataDir, meta);
  } else if (options.encrypt && !meta.encrypted) {
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
      const events: Event[] = [{ type: "key.rotated", v: 1, id: randomUUID(), purpose: "signing", key_id: signer.keyId, public_key: signer.publicKey, previous_key_id: null }];
      const dataKey = meta.encrypted ? await keystore.activeDataKey(tenant) : null;
      if (dataKey) events.push({ type: "key.rotated", v: 1, id: randomUUID(), purpose: "data", key_id: dataKey.keyId, previous_key_id: null });
      for (const definition of CORE_SCHEMAS) events.push({ type: "schema.registered", v: 1, id: randomUUID(), name: parseSchema(definition).name, definition });
      await log.append(events);
      head = await log.head();
    }
    const dataKey = meta.encrypted ? ((await keystore.listDataKeys(tenant)).find((k) => k.active)?.keyId ?? null) : null;
    return { tenant, backend: kind, encrypted: meta.encrypted, created, signing_key: keystore.activeSigningKeyId, data_key: dataKey, seq: head.seq };
  } finally {
    await log.close();
  }
}
