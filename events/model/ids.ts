import { RemError } from "../../src/errors.js";

declare const brand: unique symbol;
/** A nominal type: a `T` that has been checked to be a `B`. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A commit's position in its tenant log: 1, 2, 3… with no gaps. 0 means "before the first commit". */
export type Seq = Brand<number, "Seq">;
/** A tenant name, safe as a NATS subject token, a stream name and a directory name. */
export type TenantName = Brand<string, "TenantName">;
/** 16 bytes, lowercase hex: identifies a commit for idempotent retries. */
export type CommitId = Brand<string, "CommitId">;
/** 8 bytes, lowercase hex: identifies a signing key or a data key. */
export type KeyId = Brand<string, "KeyId">;

/**
 * Tenant names become NATS subject tokens (`rem.<tenant>.commit`), JetStream stream
 * names and directory names, so only a conservative alphabet is allowed: no dots,
 * wildcards, whitespace or path characters.
 */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function tenantName(value: string): TenantName {
  if (!TENANT_PATTERN.test(value)) {
    throw new RemError(
      "REM_ERR_TENANT_INVALID",
      `invalid tenant name ${JSON.stringify(value)}: use 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter or digit`,
      { tenant: value, field: "tenant" },
    );
  }
  return value as TenantName;
}

export function seq(value: number): Seq {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `invalid sequence ${value}: expected a non-negative integer`, {
      field: "seq",
    });
  }
  return value as Seq;
}

const HEX = /^[0-9a-f]*$/;

export function commitId(value: string): CommitId {
  if (value.length !== 32 || !HEX.test(value)) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `invalid commit id ${JSON.stringify(value)}: expected 32 hex digits`, {
      field: "commit_id",
    });
  }
  return value as CommitId;
}

export function keyId(value: string): KeyId {
  if (value.length !== 16 || !HEX.test(value)) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `invalid key id ${JSON.stringify(value)}: expected 16 hex digits`, {
      field: "key_id",
    });
  }
  return value as KeyId;
}
