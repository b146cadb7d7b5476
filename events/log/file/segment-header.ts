import { crc32 } from "node:zlib";
import { RemError } from "../../../src/errors.js";

/**
 * Every segment file starts with an 84-byte header (docs/event-format.md §5):
 *
 *   0   4  magic "RSEG"
 *   4   1  version (1)
 *   5   1  tenant length T
 *   6   2  reserved (0)
 *   8   8  first seq (u64 BE)
 *  16  64  tenant, ASCII, zero padded
 *  80   4  CRC-32 of bytes [0, 80)
 */
export const SEGMENT_MAGIC = Buffer.from("RSEG", "ascii");
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER = 84;

export function encodeSegmentHeader(tenant: string, firstSeq: number): Uint8Array {
  const b = Buffer.alloc(SEGMENT_HEADER);
  SEGMENT_MAGIC.copy(b, 0);
  b.writeUInt8(SEGMENT_VERSION, 4);
  b.writeUInt8(tenant.length, 5);
  b.writeBigUInt64BE(BigInt(firstSeq), 8);
  b.write(tenant, 16, "ascii");
  b.writeUInt32BE(crc32(b.subarray(0, 80)), 80);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function decodeSegmentHeader(bytes: Uint8Array, file: string): { tenant: string; firstSeq: number } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (why: string) => new RemError("REM_ERR_LOG_CORRUPT", `segment ${file}: ${why}`, { segment: file, offset: 0 });
  if (b.length < SEGMENT_HEADER) throw corrupt("file shorter than the segment header");
  if (!b.subarray(0, 4).equals(SEGMENT_MAGIC)) throw corrupt("bad magic (not a REM segment)");
  if (b.readUInt32BE(80) !== crc32(b.subarray(0, 80))) throw corrupt("segment header checksum mismatch");
  const version = b.readUInt8(4);
  if (version !== SEGMENT_VERSION) {
    throw new RemError("REM_ERR_UNSUPPORTED_VERSION", `segment ${file}: version ${version} is not supported`, { segment: file });
  }
  const tenantLength = b.readUInt8(5);
  return { tenant: b.toString("ascii", 16, 16 + tenantLength), firstSeq: Number(b.readBigUInt64BE(8)) };
}

/** Segment files are named by their first sequence, zero padded so names sort in order. */
export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, "0")}.seg`;
}

export function indexFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, "0")}.idx`;
}

export function parseSegmentFileName(name: string): number | null {
  const m = /^(\d{20})\.seg$/.exec(name);
  return m ? Number(m[1]) : null;
}
