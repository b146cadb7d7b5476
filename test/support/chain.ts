import { encodeEvents } from "../../events/codec/events-codec.js";
import { buildCommit, deriveCommitId, type DataKey } from "../../events/commit-builder.js";
import { ZERO_HASH } from "../../events/hash.js";
import type { Event } from "../../events/model/events.js";
import type { Seq, TenantName } from "../../events/model/ids.js";
import { validateEvent } from "../../events/model/validate.js";
import type { RawCommit } from "../../events/log/types.js";
import type { Signer } from "../../events/signing.js";

/** Builds a valid chain of commits (one per element of `batches`) without any log. */
export function buildChain(tenant: TenantName, signer: Signer, batches: Event[][], dataKey?: DataKey): RawCommit[] {
  let prev = ZERO_HASH;
  let ts = 1_700_000_000_000;
  return batches.map((evs, i) => {
    const valid = evs.map((e) => validateEvent(e));
    ts += i % 3;
    const c = buildCommit({
      tenant,
      seq: (i + 1) as Seq,
      ts,
      prevHash: prev,
      commitId: deriveCommitId(tenant, valid.map((e) => e.id)),
      payload: encodeEvents(valid),
      count: valid.length,
      signer,
      dataKey,
    });
    prev = c.hash;
    return { seq: c.seq, bytes: c.bytes };
  });
}
