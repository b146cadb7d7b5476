import { RemError } from "../../src/errors.js";
import { TENANT_PATTERN } from "../model/ids.js";

/**
 * The binary commit layout (docs/event-format.md §3). All integers big-endian.
 *
 *   off  size  field
 *     0     4  magic "REM1"
 *     4     1  format version (1)
 *     5     1  flags (bit 0: payload encrypted; other bits 0)
 *     6     2  header length H = 109 + T
 *     8     8  seq
 *    16     8  ts, milliseconds since the Unix epoch
 *    24    32  prev_hash (BLAKE3 of the previous commit's unsigned bytes; zeros for seq 1)
 *    56    16  commit_id
 *    72     8  signer key id
 *    80     8  data key id (zeros when not encrypted)
 *    88    12  nonce (zeros when not encrypted)
 *   100     4  event count
 *   104     4  payload length P
 *   108     1  tenant length T (1..63)
 *   109     T  tenant, ASCII
 *     H     P  payload: MessagePack events, or ChaCha20-Poly1305 ciphertext||tag
 *   H+P    64  Ed25519 signature over "rem/commit/v1" || BLAKE3(bytes[0, H+P))
 */
export const MAGIC = new Uint8Array([0x52, 0x45, 0x4d, 0x31]); // "REM1"
export const FORMAT_VERSION = 1;
export const FLAG_ENCRYPTED = 0x01;
export const FIXED_HEADER = 109;
export const SIGNATURE_LENGTH = 64;
export const MIN_COMMIT_LENGTH = FIXED_HEADER + 1 + SIGNATURE_LENGTH;

export interface CommitHeader {
  readonly version: number;
  readonly encrypted: boolean;
  readonly headerLength: number;
  readonly seq: number;
  readonly ts: number;
  readonly prevHash: Uint8Array;
  readonly commitId: Uint8Array;
  readonly keyId: Uint8Array;
  readonly dataKeyId: Uint8Array;
  readonly nonce: Uint8Array;
  readonly count: number;
  readonly payloadLength: number;
  readonly tenant: string;
}

/** A parsed commit. Every Uint8Array is a view into `bytes`. */
export interface ParsedCommit {
  readonly header: CommitHeader;
  readonly bytes: Uint8Array;
  /** bytes[0, H): the AAD when encrypted. */
  readonly headerBytes: Uint8Array;
  /** bytes[0, H+P): what the hash covers. */
  readonly unsigned: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

export interface HeaderFields {
  encrypted: boolean;
  seq: number;
  ts: number;
  prevHash: Uint8Array;
  commitId: Uint8Array;
  keyId: Uint8Array;
  dataKeyId: Uint8Array;
  nonce: Uint8Array;
  count: number;
  payloadLength: number;
  tenant: string;
}

/** Allocates a whole commit buffer and writes its header; the caller fills payload and signature. */
export function allocateCommit(h: HeaderFields): { bytes: Uint8Array; headerLength: number } {
  const tenant = Buffer.from(h.tenant, "ascii");
  const headerLength = FIXED_HEADER + tenant.length;
  // Only the header is zero-filled (a commit is ~60 KB, allocated per append):
  // the caller writes every payload and signature byte.
  const length = headerLength + h.payloadLength + SIGNATURE_LENGTH;
  const bytes = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  bytes.fill(0, 0, headerLength);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  bytes.set(MAGIC, 0);
  dv.setUint8(4, FORMAT_VERSION);
  dv.setUint8(5, h.encrypted ? FLAG_ENCRYPTED : 0);
  dv.setUint16(6, headerLength);
  dv.setBigUint64(8, BigInt(h.seq));
  dv.setBigUint64(16, BigInt(h.ts));
  bytes.set(h.prevHash, 24);
  bytes.set(h.commitId, 56);
  bytes.set(h.keyId, 72);
  bytes.set(h.dataKeyId, 80);
  bytes.set(h.nonce, 88);
  dv.setUint32(100, h.count);
  dv.setUint32(104, h.payloadLength);
  dv.setUint8(108, tenant.length);
  bytes.set(tenant, FIXED_HEADER);
  return { bytes, headerLength };
}

function decodeError(message: string, seq?: number): RemError {
  return new RemError("REM_ERR_DECODE", message, seq === undefined ? {} : { seq });
}

/** Parses and structurally checks one commit. Throws REM_ERR_DECODE or REM_ERR_UNSUPPORTED_VERSION. */
export function parseCommit(bytes: Uint8Array, expectedSeq?: number): ParsedCommit {
  const where = expectedSeq === undefined ? "commit" : `commit ${expectedSeq}`;
  if (bytes.length < MIN_COMMIT_LENGTH) throw decodeError(`${where}: ${bytes.length} bytes is shorter than the smallest commit`, expectedSeq);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw decodeError(`${where}: bad magic (not a REM commit)`, expectedSeq);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint8(4);
  if (version !== FORMAT_VERSION) {
    throw new RemError("REM_ERR_UNSUPPORTED_VERSION", `${where}: commit format version ${version} is not supported (expected ${FORMAT_VERSION})`, expectedSeq === undefined ? {} : { seq: expectedSeq });
  }
  const flags = dv.getUint8(5);
  if ((flags & ~FLAG_ENCRYPTED) !== 0) throw decodeError(`${where}: unknown flags 0x${flags.toString(16)}`, expectedSeq);
  const headerLength = dv.getUint16(6);
  const seqBig = dv.getBigUint64(8);
  const tsBig = dv.getBigUint64(16);
  if (seqBig > BigInt(Number.MAX_SAFE_INTEGER) || tsBig > BigInt(Number.MAX_SAFE_INTEGER)) throw decodeError(`${where}: seq or ts out of range`, expectedSeq);
  const seq = Number(seqBig);
  const tenantLength = dv.getUint8(108);
  if (headerLength !== FIXED_HEADER + tenantLength || tenantLength === 0) throw decodeError(`${where}: header length ${headerLength} does not match tenant length ${tenantLength}`, expectedSeq);
  const payloadLength = dv.getUint32(104);
  if (bytes.length !== headerLength + payloadLength + SIGNATURE_LENGTH) {
    throw decodeError(`${where}: length ${bytes.length} does not match header (${headerLength} + ${payloadLength} + ${SIGNATURE_LENGTH})`, expectedSeq);
  }
  const tenant = Buffer.from(bytes.buffer, bytes.byteOffset + FIXED_HEADER, tenantLength).toString("latin1");
  if (!TENANT_PATTERN.test(tenant)) throw decodeError(`${where}: invalid tenant name in header`, expectedSeq);
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  const dataKeyId = bytes.subarray(80, 88);
  const nonce = bytes.subarray(88, 100);
  if (!encrypted && (!isZero(dataKeyId) || !isZero(nonce))) throw decodeError(`${where}: data key id and nonce must be zero when not encrypted`, expectedSeq);
  const count = dv.getUint32(100);
  if (count === 0) throw decodeError(`${where}: a commit holds at least one event`, expectedSeq);
  const header: CommitHeader = {
    version,
    encrypted,
    headerLength,
    seq,
    ts: Number(tsBig),
    prevHash: bytes.subarray(24, 56),
    commitId: bytes.subarray(56, 72),
    keyId: bytes.subarray(72, 80),
    dataKeyId,
    nonce,
    count,
    payloadLength,
    tenant,
  };
  return {
    header,
    bytes,
    headerBytes: bytes.subarray(0, headerLength),
    unsigned: bytes.subarray(0, headerLength + payloadLength),
    payload: bytes.subarray(headerLength, headerLength + payloadLength),
    signature: bytes.subarray(headerLength + payloadLength),
  };
}

/** Reads just the sequence number (offset 8) without a full parse; used by the file log's scanner. */
export function peekSeq(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Number(dv.getBigUint64(8));
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}
