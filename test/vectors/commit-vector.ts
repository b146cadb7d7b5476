import { encodeEvents } from "../../events/codec/events-codec.js";
import { buildCommit, deriveCommitId } from "../../events/commit-builder.js";
import { ZERO_HASH } from "../../events/hash.js";
import { tenantName, type Seq } from "../../events/model/ids.js";
import { validateEvent } from "../../events/model/validate.js";
import { signerFromSeed } from "../../events/signing.js";

/** The worked example of docs/event-format.md §8: everything fixed, so the bytes are too. */
export function vectorCommit() {
  const signer = signerFromSeed(new Uint8Array(32).fill(1));
  const tenant = tenantName("acme");
  const event = validateEvent({
    type: "entity.upserted",
    v: 1,
    id: "00000000-0000-4000-8000-000000000001",
    entity_id: "00000000-0000-8000-8000-000000000002",
    schema: "notes",
    data: { title: "hi", n: 1 },
  });
  const payload = encodeEvents([event]);
  const commitId = deriveCommitId(tenant, [event.id]);
  const commit = buildCommit({ tenant, seq: 1 as Seq, ts: 1_767_225_600_000, prevHash: ZERO_HASH, commitId, payload, count: 1, signer });
  return { signer, tenant, payload, commitId, commit };
}
