import { randomBytes, randomUUID } from "node:crypto";
import type { TrustedKeys } from "../../events/chain-verifier.js";
import type { DataKey } from "../../events/commit-builder.js";
import type { Event } from "../../events/model/events.js";
import { keyId, tenantName, type KeyId, type TenantName } from "../../events/model/ids.js";
import type { DataKeyResolver } from "../../events/payload.js";
import { generateSigningSeed, signerFromSeed, verifyKeyFromPublic, type Signer, type VerifyKey } from "../../events/signing.js";

/** An in-memory writer identity: a signer and the trusted set that accepts it. */
export function testSigner(): { signer: Signer; trusted: TrustedKeys & Map<string, VerifyKey> } {
  const { seed } = generateSigningSeed();
  const signer = signerFromSeed(seed);
  const trusted = new Map<string, VerifyKey>([[signer.keyId, verifyKeyFromPublic(signer.publicKey)]]);
  return { signer, trusted };
}

export function testDataKey(): DataKey {
  return { keyId: keyId(randomBytes(8).toString("hex")), key: new Uint8Array(randomBytes(32)) };
}

export function resolverFor(tenant: TenantName, ...keys: DataKey[]): DataKeyResolver {
  const map = new Map<string, Uint8Array>(keys.map((k) => [k.keyId, k.key]));
  return {
    dataKey(t: TenantName, id: KeyId, seq: number): Uint8Array {
      const k = t === tenant ? map.get(id) : undefined;
      if (!k) throw new Error(`no key ${id} for ${t} at ${seq}`);
      return k;
    },
  };
}

export const T = tenantName("acme");

/** A ~500-byte entity event, the shape benchmarks use. */
export function entityEvent(i: number, schema = "articles"): Event {
  return {
    type: "entity.upserted",
    v: 1,
    id: randomUUID(),
    entity_id: randomUUID(),
    schema,
    data: {
      category: ["programming", "science", "news", "sports"][i % 4]!,
      content: `Event ${i}: ` + "lorem ipsum dolor sit amet consectetur adipiscing elit ".repeat(7),
      n: i,
      tags: ["a", "b", String(i % 10)],
      title: `Title number ${i}`,
    },
  };
}
