import { join } from "node:path";
import { resolveConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName } from "../../events/model/ids.js";
import { writeTenantMeta } from "../../src/node/tenant-meta.js";
import { Tenant } from "../../src/node/tenant.js";
import { progress } from "../lib/report.js";
import type { ProjectionBenchConfig } from "./config.js";
import { DOCS_SCHEMA, SCHEMA, treeEdges, upsert } from "./workload.js";
import type { Event } from "../../events/model/events.js";
import { randomUUID } from "node:crypto";

/**
 * A node data directory with one tenant on the embedded log holding the schema,
 * `entities` upserts and a 1,111-node edge tree, all appended through
 * TenantLog (signed, durable). The tenant's own store is caught up.
 */
export async function setupTenant(dir: string, cfg: ProjectionBenchConfig): Promise<Tenant> {
  const keystore = await Keystore.create(join(dir, "keys"), "bench passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  const tenant = tenantName("bench");
  await writeTenantMeta(dir, { v: 1, tenant, created_at: new Date().toISOString(), backend: "file", encrypted: false });
  const t = await Tenant.open(resolveConfig({ data: dir }, {}), tenant, { keystore, write: true, sync: false });
  await t.log.append([{ type: "schema.registered", v: 1, id: randomUUID(), name: SCHEMA, definition: DOCS_SCHEMA }]);
  const started = Date.now();
  const inflight: Promise<unknown>[] = [];
  for (let c = 0; c < cfg.entities / cfg.perCommit; c++) {
    const evs: Event[] = [];
    for (let i = c * cfg.perCommit; i < (c + 1) * cfg.perCommit; i++) evs.push(upsert(i, cfg.categories));
    inflight.push(t.log.append(evs));
    if (inflight.length >= 32) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  await t.log.append(treeEdges());
  progress(`appended ${cfg.entities} entities and a 1,111-node tree in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await t.sync();
  progress(`tenant store caught up (seq ${t.store.checkpoint?.seq})`);
  return t;
}
