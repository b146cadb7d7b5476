import { createBLAKE3 } from "hash-wasm";

/**
 * BLAKE3-256. Native (@napi-rs/blake-hash, a prebuilt binary: 3.3 GB/s here)
 * when it loads on this platform, else WebAssembly (hash-wasm: 0.7 GB/s; the
 * npm `blake3` package does not install here). Hashing every commit is on both
 * the append and the read path, so the 5x matters; both give identical output
 * (test/events/hash.test.ts). REM_BLAKE3=wasm forces the fallback.
 *
 * Hashers are created once at module load, so hashing is synchronous; they are
 * not re-entrant, which is fine because JavaScript never interleaves the calls.
 */
type Hash = (parts: readonly Uint8Array[]) => Uint8Array;

const wasm = await createBLAKE3(256);
export const blake3Wasm: Hash = (parts) => {
  wasm.init();
  for (const p of parts) wasm.update(p);
  return wasm.digest("binary");
};

async function loadNative(): Promise<Hash | null> {
  if (process.env.REM_BLAKE3 === "wasm") return null;
  try {
    const { Blake3Hasher } = await import("@napi-rs/blake-hash");
    const h = new Blake3Hasher();
    return (parts) => {
      h.reset();
      for (const p of parts) h.update(p);
      return h.digestBuffer();
    };
  } catch {
    return null; // no prebuilt binary for this platform
  }
}

export const blake3Native: Hash | null = await loadNative();
const impl: Hash = blake3Native ?? blake3Wasm;

/** Which implementation is in use ("native" or "wasm"). */
export const BLAKE3_IMPL: "native" | "wasm" = blake3Native === null ? "wasm" : "native";

/** BLAKE3-256 of the concatenation of `parts`. */
export function blake3(...parts: Uint8Array[]): Uint8Array {
  return impl(parts);
}

export const HASH_LENGTH = 32;
export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_LENGTH);

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

const textEncoder = new TextEncoder();
export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}
