import { crc32 } from "node:zlib";
import { MAGIC, MIN_COMMIT_LENGTH } from "../../codec/commit.js";

/**
 * A frame holds one commit in a segment file (docs/event-format.md §5):
 *
 *   u32 BE  bit 31: first frame of its group commit; bits 0-30: length L of the commit
 *   u32 BE  CRC-32 (IEEE, as zlib) of the 4 bytes above followed by the commit bytes
 *   L bytes the commit, exactly as on the wire
 *
 * The batch-start bit is what lets recovery tell a torn tail from damage to
 * acknowledged data: group commits are written strictly one after another, each
 * only after the previous one's fdatasync returned, so a valid batch-start frame
 * after a bad frame proves the bad frame was acknowledged.
 */
export const FRAME_HEADER = 8;
const BATCH_START = 0x8000_0000;
const LENGTH_MASK = 0x7fff_ffff;

export function frameChecksum(lengthBytes: Uint8Array, commit: Uint8Array): number {
  return crc32(commit, crc32(lengthBytes));
}

/** Writes the frame for `commit` into `target` at `offset`; returns the frame length. */
export function writeFrame(target: Uint8Array, offset: number, commit: Uint8Array, batchStart: boolean): number {
  const dv = new DataView(target.buffer, target.byteOffset, target.byteLength);
  dv.setUint32(offset, (commit.length | (batchStart ? BATCH_START : 0)) >>> 0);
  dv.setUint32(offset + 4, frameChecksum(target.subarray(offset, offset + 4), commit));
  target.set(commit, offset + FRAME_HEADER);
  return FRAME_HEADER + commit.length;
}

export type FrameCheck =
  | { readonly kind: "ok"; readonly length: number; readonly commit: Uint8Array; readonly batchStart: boolean }
  /** Not enough bytes for the header or the body. */
  | { readonly kind: "short"; readonly needed: number }
  | { readonly kind: "bad-checksum"; readonly length: number }
  | { readonly kind: "zero" };

/** Checks the frame starting at `offset` of `buf` (which ends at buf.length). */
export function checkFrame(buf: Uint8Array, offset: number, maxCommitBytes: number): FrameCheck {
  if (buf.length - offset < FRAME_HEADER) return { kind: "short", needed: FRAME_HEADER };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const word = dv.getUint32(offset);
  const sum = dv.getUint32(offset + 4);
  if (word === 0 && sum === 0) return { kind: "zero" };
  const length = word & LENGTH_MASK;
  if (length > maxCommitBytes || length < MIN_COMMIT_LENGTH) return { kind: "bad-checksum", length };
  if (buf.length - offset - FRAME_HEADER < length) return { kind: "short", needed: FRAME_HEADER + length };
  const commit = buf.subarray(offset + FRAME_HEADER, offset + FRAME_HEADER + length);
  if (frameChecksum(buf.subarray(offset, offset + 4), commit) !== sum) return { kind: "bad-checksum", length };
  return { kind: "ok", length: FRAME_HEADER + length, commit, batchStart: (word & BATCH_START) !== 0 };
}

/**
 * Looks for a valid frame that starts a group commit anywhere after `from`
 * (byte by byte: the damaged frame's length cannot be trusted). Returns its
 * offset, or null. Only run on the recovery path.
 */
export function findBatchStartAfter(buf: Uint8Array, from: number, maxCommitBytes: number): number | null {
  for (let q = from + 1; q + FRAME_HEADER + MIN_COMMIT_LENGTH <= buf.length; q++) {
    // Cheap filters first: the batch-start bit and the commit magic.
    if ((buf[q]! & 0x80) === 0) continue;
    const m = q + FRAME_HEADER;
    if (buf[m] !== MAGIC[0] || buf[m + 1] !== MAGIC[1] || buf[m + 2] !== MAGIC[2] || buf[m + 3] !== MAGIC[3]) continue;
    const f = checkFrame(buf, q, maxCommitBytes);
    if (f.kind === "ok" && f.batchStart) return q;
  }
  return null;
}
