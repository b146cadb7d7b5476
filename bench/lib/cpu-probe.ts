import { blake3 } from "../../events/hash.js";
import { loopFor } from "./timing.js";

const BUF = new Uint8Array(64 * 1024).fill(7);

/**
 * A fixed CPU-bound loop (BLAKE3 over 64 KiB for ~200 ms), in MB/s. Run between
 * sections, its spread shows how steady the machine itself was during the run:
 * on a shared VM the same loop can vary by 2x, and every figure with it.
 */
export function cpuProbe(ms = 200): number {
  const s = loopFor(ms, BUF.length / 1e6, () => blake3(BUF));
  return (s.items * 1000) / s.ms;
}
