import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { keyId as toKeyId, type KeyId } from "./model/ids.js";
import { blake3, toHex, utf8 } from "./hash.js";

/** DER prefixes that wrap a raw 32-byte Ed25519 seed / public key (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const KEY_ID_CONTEXT = utf8("rem/key-id/v1");

/** A key id is the first 8 bytes of BLAKE3("rem/key-id/v1" || raw public key), in hex. */
export function signingKeyId(publicKey: Uint8Array): KeyId {
  return toKeyId(toHex(blake3(KEY_ID_CONTEXT, publicKey).subarray(0, 8)));
}

/** Something that signs commit hashes. The private half never leaves it. */
export interface Signer {
  readonly keyId: KeyId;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A trusted public key that verifies signatures. */
export interface VerifyKey {
  readonly keyId: KeyId;
  readonly publicKey: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export function generateSigningSeed(): { seed: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length);
  const pub = publicKey.export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length);
  return { seed: new Uint8Array(seed), publicKey: new Uint8Array(pub) };
}

export function signerFromSeed(seed: Uint8Array): Signer {
  const key: KeyObject = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length));
  const id = signingKeyId(publicKey);
  return {
    keyId: id,
    publicKey,
    sign: (message) => new Uint8Array(sign(null, message, key)),
  };
}

export function verifyKeyFromPublic(publicKey: Uint8Array): VerifyKey {
  if (publicKey.length !== 32) throw new Error(`an Ed25519 public key is 32 bytes, got ${publicKey.length}`);
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
  return {
    keyId: signingKeyId(publicKey),
    publicKey,
    verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature),
  };
}
