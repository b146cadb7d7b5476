import { RemError } from "../src/errors.js";
import type { VerifiedCommit } from "./chain-verifier.js";
import { decodeEvents, decodeEventsWithData, type EventsWithData } from "./codec/events-codec.js";
import { open } from "./encryption.js";
import type { KeyId, TenantName } from "./model/ids.js";
import type { Event } from "./model/events.js";

/** Finds a tenant's data key by id; throws REM_ERR_KEY_NOT_FOUND or REM_ERR_KEY_SHREDDED. */
export interface DataKeyResolver {
  dataKey(tenant: TenantName, keyId: KeyId, seq: number): Uint8Array;
}

/** The plaintext payload of a verified commit, decrypting it when needed. */
export function openPayload(commit: VerifiedCommit, keys: DataKeyResolver | undefined): Uint8Array {
  const p = commit.parsed;
  if (!commit.encrypted) return p.payload;
  const tenant = p.header.tenant as TenantName;
  if (keys === undefined) {
    throw new RemError("REM_ERR_KEY_NOT_FOUND", `tenant ${tenant}: commit ${commit.seq} is encrypted and no data keys are loaded (a passphrase is needed)`, {
      tenant,
      seq: commit.seq,
      keyId: commit.dataKeyId ?? undefined,
    });
  }
  const key = keys.dataKey(tenant, commit.dataKeyId!, commit.seq);
  const plain = open(key, p.header.nonce, p.payload, p.headerBytes);
  if (plain === null) {
    throw new RemError("REM_ERR_DECRYPT", `tenant ${tenant}: commit ${commit.seq} does not decrypt with data key ${commit.dataKeyId} (wrong key or altered ciphertext)`, {
      tenant,
      seq: commit.seq,
      keyId: commit.dataKeyId ?? undefined,
    });
  }
  return plain;
}

/** Decrypts (if needed) and decodes a verified commit's events. */
export function commitEvents(commit: VerifiedCommit, keys: DataKeyResolver | undefined, validate = false): Event[] {
  return checkCount(commit, decodeEvents(openPayload(commit, keys), { tenant: commit.parsed.header.tenant, seq: commit.seq, validate }));
}

/** As commitEvents, with each upsert's encoded `data` (see decodeEventsWithData). */
export function commitEventsWithData(commit: VerifiedCommit, keys: DataKeyResolver | undefined): EventsWithData {
  const decoded = decodeEventsWithData(openPayload(commit, keys), { tenant: commit.parsed.header.tenant, seq: commit.seq });
  checkCount(commit, decoded.events);
  return decoded;
}

function checkCount(commit: VerifiedCommit, events: Event[]): Event[] {
  if (events.length !== commit.count) {
    throw new RemError("REM_ERR_DECODE", `commit ${commit.seq}: header says ${commit.count} events, payload holds ${events.length}`, {
      tenant: commit.parsed.header.tenant,
      seq: commit.seq,
    });
  }
  return events;
}
