import type { NatsConnection } from "@nats-io/nats-core";
import type { RemConfig } from "../../src/config/config.js";
import { RemError } from "../../src/errors.js";
import { openBackend } from "../../src/node/open-log.js";
import { readTenantMeta, writeTenantMeta, type TenantMeta } from "../../src/node/tenant-meta.js";
import { parseCommit } from "../../events/codec/commit.js";
import type { TenantName } from "../../events/model/ids.js";

/**
 * Makes this node's record of a tenant it follows as a replica: the tenant
 * must already have a JetStream stream (the primary created it); the record
 * says the tenant lives on JetStream and is read here only. Idempotent; a
 * tenant this node holds in its embedded log is refused (that node is a
 * primary, not a replica).
 */
export async function prepareReplica(config: RemConfig, tenant: TenantName, options: { nats?: NatsConnection } = {}): Promise<TenantMeta> {
  if (config.natsUrl === undefined) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", "a replica follows a NATS JetStream stream: pass --nats URL (or set REM_NATS_URL)", { field: "nats", tenant });
  }
  const existing = await readTenantMeta(config.dataDir, tenant);
  if (existing !== null) {
    if (existing.backend !== "jetstream") {
      throw new RemError("REM_ERR_INVALID_ARGUMENT", `tenant ${tenant} lives in the embedded log of ${config.dataDir}: a replica needs a data directory of its own`, { tenant, field: "data" });
    }
    return existing;
  }
  // Opening without `create` fails with REM_ERR_NOT_FOUND when the primary never created the stream.
  const backend = await openBackend(config, tenant, { write: false, nats: options.nats });
  let encrypted = false;
  try {
    const last = await backend.last();
    if (last !== null) encrypted = parseCommit(last.bytes, last.seq).header.encrypted;
  } finally {
    await backend.close();
  }
  const meta: TenantMeta = { v: 1, tenant, created_at: new Date().toISOString(), backend: "jetstream", encrypted, role: "replica" };
  await writeTenantMeta(config.dataDir, meta);
  return meta;
}
