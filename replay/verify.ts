import type { TenantLog } from "../events/log/tenant-log.js";
import { toHex } from "../events/hash.js";
import type { Seq } from "../events/model/ids.js";

export interface VerifyOptions {
  /** Decrypt and decode every commit (needs the tenant's data keys). Default true. */
  readonly decrypt?: boolean;
  /** Called after each batch with the last sequence checked. */
  readonly onProgress?: (seq: number) => void;
  readonly signal?: AbortSignal;
}

export interface VerifySummary {
  readonly tenant: string;
  readonly backend: string;
  readonly ok: true;
  readonly commits: number;
  readonly events: number;
  readonly head_seq: number;
  readonly head_hash: string;
  readonly first_ts: string | null;
  readonly last_ts: string | null;
  readonly encrypted_commits: number;
  /** Whether payloads were decrypted and decoded, or only the chain and signatures checked. */
  readonly decrypted: boolean;
  readonly signing_keys: string[];
  readonly data_keys: string[];
  readonly event_types: Record<string, number>;
  readonly seconds: number;
}

/**
 * Audits a whole tenant log: every frame checksum, the hash chain from commit
 * 1, every commit's signature (not just batch heads), and, when `decrypt`,
 * that every payload decrypts and every event passes full model validation.
 * Throws the first failure as a RemError naming the tenant and sequence.
 */
export async function verifyLog(log: TenantLog, options: VerifyOptions = {}): Promise<VerifySummary> {
  const started = performance.now();
  const decrypt = options.decrypt ?? true;
  let commits = 0;
  let events = 0;
  let encrypted = 0;
  let firstTs: number | null = null;
  let last: { seq: number; hash: Uint8Array; ts: number } | null = null;
  const signingKeys = new Set<string>();
  const dataKeys = new Set<string>();
  const types: Record<string, number> = {};
  for await (const batch of log.read(1 as Seq, { signatures: "all", signal: options.signal })) {
    for (const c of batch) {
      commits++;
      events += c.count;
      firstTs ??= c.ts;
      signingKeys.add(c.keyId);
      if (c.encrypted) {
        encrypted++;
        dataKeys.add(c.dataKeyId!);
      }
      if (decrypt) {
        for (const e of log.events(c, true)) types[e.type] = (types[e.type] ?? 0) + 1;
      }
      last = c;
    }
    if (last) options.onProgress?.(last.seq);
  }
  return {
    tenant: log.tenant,
    backend: log.backendKind,
    ok: true,
    commits,
    events,
    head_seq: last?.seq ?? 0,
    head_hash: last ? toHex(last.hash) : "0".repeat(64),
    first_ts: firstTs === null ? null : new Date(firstTs).toISOString(),
    last_ts: last ? new Date(last.ts).toISOString() : null,
    encrypted_commits: encrypted,
    decrypted: decrypt,
    signing_keys: [...signingKeys],
    data_keys: [...dataKeys],
    event_types: types,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}
