import { open as aeadOpen, randomNonce, seal as aeadSeal } from "../encryption.js";
import { utf8 } from "../hash.js";

/** A secret sealed under the keystore's key-encryption key (ChaCha20-Poly1305). */
export interface SealedBox {
  /** base64, 12 bytes */
  readonly nonce: string;
  /** base64: ciphertext || tag */
  readonly ct: string;
}

/**
 * `label` is the AAD: it binds a sealed secret to what it is (e.g.
 * "signing/<key id>" or "data/<tenant>/<key id>"), so files cannot be swapped.
 */
export function sealSecret(kek: Uint8Array, label: string, secret: Uint8Array): SealedBox {
  const nonce = randomNonce();
  const ct = aeadSeal(kek, nonce, secret, utf8(`rem/seal/v1/${label}`));
  return { nonce: Buffer.from(nonce).toString("base64"), ct: Buffer.from(ct).toString("base64") };
}

/** Returns null when the KEK is wrong or the box was altered. */
export function openSecret(kek: Uint8Array, label: string, box: SealedBox): Uint8Array | null {
  return aeadOpen(kek, new Uint8Array(Buffer.from(box.nonce, "base64")), new Uint8Array(Buffer.from(box.ct, "base64")), utf8(`rem/seal/v1/${label}`));
}
