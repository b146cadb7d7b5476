import type { RawCommit } from "../../events/log/types.js";
import type { Event } from "../../events/model/events.js";
import type { TenantName } from "../../events/model/ids.js";
import type { Signer } from "../../events/signing.js";
import { buildChain } from "../../test/support/chain.js";
import { entityEvent } from "../../test/support/fixtures.js";

/**
 * The events every measurement writes, generated once up front so that making
 * test data is never part of a timed section. The same batches go to REM (both
 * backends) and to Emmett; the raw baselines send `rawCommits`, the exact bytes
 * REM stores for them (signed, plain).
 */
export interface Workload {
  readonly batches: Event[][];
  readonly events: number;
  readonly rawCommits: Uint8Array[];
  readonly rawBytes: number;
}

export function makeWorkload(events: number, batch: number, tenant: TenantName, signer: Signer): Workload {
  const batches: Event[][] = [];
  for (let i = 0; i < events; i += batch) {
    const b: Event[] = [];
    for (let j = i; j < Math.min(events, i + batch); j++) b.push(entityEvent(j));
    batches.push(b);
  }
  const chain: RawCommit[] = buildChain(tenant, signer, batches);
  const rawCommits = chain.map((c) => c.bytes);
  return { batches, events, rawCommits, rawBytes: rawCommits.reduce((n, b) => n + b.length, 0) };
}
