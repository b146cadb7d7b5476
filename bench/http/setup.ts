import { join } from "node:path";
import { resolveConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName } from "../../events/model/ids.js";
import { initTenant } from "../../src/node/init-tenant.js";
import { BENCH_PASSPHRASE } from "./shared.js";

/** The schema every run writes: a typical agent-memory record, one indexed field, no embedding. */
export const NOTES = {
  title: "notes",
  type: "object",
  properties: { title: { type: "string" }, body: { type: "string" }, topic: { type: "string" }, n: { type: "integer" } },
  required: ["title"],
  json_schema_extra: { name: "notes", indexed_fields: ["topic"] },
};

/** A ~250-byte entity. */
export function note(i: number): Record<string, unknown> {
  return { title: `note ${i}`, body: `Entity ${i}: the agent noted something worth remembering about topic ${i % 50}. `.repeat(2), topic: `t${i % 50}`, n: i };
}

/** A data dir with a keystore (cheap KDF: a benchmark's throwaway) and tenant `bench` on the given backend. */
export async function prepareDataDir(dir: string, natsUrl?: string): Promise<void> {
  const keystore = await Keystore.create(join(dir, "keys"), BENCH_PASSPHRASE, { logN: 10 });
  await keystore.generateSigningKey();
  await initTenant(resolveConfig({ data: dir, nats: natsUrl }, {}), keystore, tenantName("bench"));
}
