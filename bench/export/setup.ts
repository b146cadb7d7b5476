import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { resolveConfig, type RemConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName } from "../../events/model/ids.js";
import type { Event } from "../../events/model/events.js";
import { writeTenantMeta } from "../../src/node/tenant-meta.js";
import { Tenant } from "../../src/node/tenant.js";
import { progress } from "../lib/report.js";
import type { ExportBenchConfig } from "./config.js";
import { ACTIVITIES, SCHEMA, upsert } from "./workload.js";

/**
 * A node data directory with one tenant on the embedded log holding the
 * schema and `rows` upserts, appended through TenantLog (signed, durable) in
 * pipelined 1000-event commits — the normal write path, in big batches — and
 * applied to the projection store.
 */
export async function setupTenant(dir: string, cfg: ExportBenchConfig): Promise<{ tenant: Tenant; config: RemConfig; ids: string[] }> {
  const keystore = await Keystore.create(join(dir, "keys"), "bench passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  const name = tenantName("bench");
  await writeTenantMeta(dir, { v: 1, tenant: name, created_at: new Date().toISOString(), backend: "file", encrypted: false });
  const config = resolveConfig({ data: dir }, {});
  const tenant = await Tenant.open(config, name, { keystore, write: true, sync: false });
  await tenant.log.append([{ type: "schema.registered", v: 1, id: randomUUID(), name: SCHEMA, definition: ACTIVITIES }]);
  const started = Date.now();
  const ids: string[] = [];
  const inflight: Promise<unknown>[] = [];
  for (let c = 0; c < cfg.rows / cfg.perCommit; c++) {
    const evs: Event[] = [];
    for (let i = c * cfg.perCommit; i < (c + 1) * cfg.perCommit; i++) {
      const id = randomUUID();
      ids.push(id);
      evs.push(upsert(i, id));
    }
    inflight.push(tenant.log.append(evs));
    if (inflight.length >= 32) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  progress(`appended ${cfg.rows} entities in ${((Date.now() - started) / 1000).toFixed(1)} s; applying them to the projection store`);
  await tenant.sync();
  progress(`projection store caught up (seq ${tenant.store.checkpoint?.seq}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { tenant, config, ids };
}
