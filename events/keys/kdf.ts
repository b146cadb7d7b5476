import { randomBytes, scrypt } from "node:crypto";
import { RemError } from "../../src/errors.js";

/**
 * Passphrase → key-encryption key, with scrypt (memory-hard; in node:crypto).
 * Default cost N = 2^17, r = 8, p = 1: 128 MiB and ~0.45 s here, which makes
 * each passphrase guess that expensive. The parameters are stored with the
 * keystore, so raising the default never locks out existing keystores.
 */
export interface ScryptParams {
  readonly alg: "scrypt";
  readonly logN: number;
  readonly r: number;
  readonly p: number;
  /** base64, 16 bytes */
  readonly salt: string;
}

export const DEFAULT_LOG_N = 17;

export function newScryptParams(logN = DEFAULT_LOG_N): ScryptParams {
  if (!Number.isInteger(logN) || logN < 10 || logN > 22) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `scrypt cost must be between 10 and 22 (log2 N), got ${logN}`, { field: "kdf-cost" });
  }
  return { alg: "scrypt", logN, r: 8, p: 1, salt: randomBytes(16).toString("base64") };
}

export function deriveKek(passphrase: string, params: ScryptParams): Promise<Uint8Array> {
  if (params.alg !== "scrypt") throw new RemError("REM_ERR_KEYSTORE", `unsupported KDF ${String(params.alg)}`);
  const N = 2 ** params.logN;
  const maxmem = 2 * 128 * N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize("NFC"), Buffer.from(params.salt, "base64"), 32, { N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(new RemError("REM_ERR_KEYSTORE", `key derivation failed: ${err.message}`, {}, { cause: err }));
      else resolve(new Uint8Array(key));
    });
  });
}
