import type { TrustedKeys } from "../../events/chain-verifier.js";
import type { DataKey } from "../../events/commit-builder.js";
import type { TenantName } from "../../events/model/ids.js";
import type { DataKeyResolver } from "../../events/payload.js";
import type { Signer } from "../../events/signing.js";
import { resolverFor, testDataKey, testSigner } from "../../test/support/fixtures.js";

/** The node identity of the run: one signing key, one data key for the encrypted logs. */
export interface BenchKeys {
  readonly signer: Signer;
  readonly trusted: TrustedKeys;
  readonly dataKey: DataKey;
  resolver(tenant: TenantName): DataKeyResolver;
}

export function benchKeys(): BenchKeys {
  const { signer, trusted } = testSigner();
  const dataKey = testDataKey();
  return { signer, trusted, dataKey, resolver: (tenant) => resolverFor(tenant, dataKey) };
}
