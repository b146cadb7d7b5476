import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * ChaCha20-Poly1305 (RFC 8439, 96-bit nonce, 128-bit tag) from node:crypto.
 * Nonces are random: with at most 2^32 commits per data key the collision
 * probability stays below 2^-32 (rotate the data key long before that).
 */
export const KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

export function randomNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_LENGTH));
}

/** Returns ciphertext || tag. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  sealInto(out, 0, key, nonce, plaintext, aad);
  return out;
}

/**
 * Writes ciphertext || tag (plaintext.length + TAG_LENGTH bytes) into `target`
 * at `offset`: the commit builder seals straight into the commit, sparing a
 * payload-sized buffer and copy per encrypted append.
 */
export function sealInto(target: Uint8Array, offset: number, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): void {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  target.set(body, offset);
  const fin = cipher.final();
  target.set(fin, offset + body.length);
  target.set(cipher.getAuthTag(), offset + body.length + fin.length);
}

/** Returns the plaintext, or null when the tag does not verify (wrong key or tampered bytes). */
export function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG_LENGTH) return null;
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad, { plaintextLength: sealed.length - TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  try {
    const body = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
    const fin = decipher.final();
    return fin.length === 0 ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(Buffer.concat([body, fin]));
  } catch {
    return null;
  }
}
