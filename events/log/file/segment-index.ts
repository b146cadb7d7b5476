import { crc32 } from "node:zlib";
import { readFile, rename, open } from "node:fs/promises";

/**
 * A sealed segment's index: where each commit's frame starts. Written once when
 * the segment is sealed; its presence is what marks a segment sealed.
 *
 *   0   4  magic "RIDX"
 *   4   4  version (1)
 *   8   8  first seq
 *  16   4  count N
 *  20   4  end: byte length of the segment
 *  24  4N  frame offsets, u32 BE
 *  ..   4  CRC-32 of everything before
 */
const MAGIC = Buffer.from("RIDX", "ascii");

export interface SegmentIndex {
  readonly firstSeq: number;
  readonly offsets: Uint32Array;
  readonly end: number;
}

export function encodeIndex(index: SegmentIndex): Buffer {
  const n = index.offsets.length;
  const b = Buffer.alloc(24 + 4 * n + 4);
  MAGIC.copy(b, 0);
  b.writeUInt32BE(1, 4);
  b.writeBigUInt64BE(BigInt(index.firstSeq), 8);
  b.writeUInt32BE(n, 16);
  b.writeUInt32BE(index.end, 20);
  for (let i = 0; i < n; i++) b.writeUInt32BE(index.offsets[i]!, 24 + 4 * i);
  b.writeUInt32BE(crc32(b.subarray(0, 24 + 4 * n)), 24 + 4 * n);
  return b;
}

/** Returns null when the file is missing or invalid (then the segment is scanned instead). */
export async function readIndex(path: string, firstSeq: number): Promise<SegmentIndex | null> {
  let b: Buffer;
  try {
    b = await readFile(path);
  } catch {
    return null;
  }
  if (b.length < 28 || !b.subarray(0, 4).equals(MAGIC) || b.readUInt32BE(4) !== 1) return null;
  const n = b.readUInt32BE(16);
  if (b.length !== 24 + 4 * n + 4) return null;
  if (b.readUInt32BE(24 + 4 * n) !== crc32(b.subarray(0, 24 + 4 * n))) return null;
  if (Number(b.readBigUInt64BE(8)) !== firstSeq) return null;
  const offsets = new Uint32Array(n);
  for (let i = 0; i < n; i++) offsets[i] = b.readUInt32BE(24 + 4 * i);
  return { firstSeq, offsets, end: b.readUInt32BE(20) };
}

/** Writes the index durably: temp file, fsync, rename. */
export async function writeIndex(path: string, index: SegmentIndex): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(encodeIndex(index));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
