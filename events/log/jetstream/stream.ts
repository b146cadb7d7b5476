import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { RemError } from "../../../src/errors.js";
import type { TenantName } from "../../model/ids.js";
import { jsApiCode, JS_ERR, toRemError } from "./errors.js";

/**
 * Bytes reserved for the headers every commit message carries (Nats-Msg-Id,
 * Nats-Expected-Last-Sequence, Nats-Expected-Last-Msg-Id: about 170 bytes at
 * most). Both the server's max_payload and a stream's max_msg_size count
 * headers, so a commit may only use what is left.
 */
export const PUBLISH_HEADER_RESERVE = 256;

/** Default deduplication window: a retry within it is recognised (same as the file log). */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

/** `REM_<tenant>`: one stream per tenant. Tenant names are valid stream name characters. */
export function streamName(tenant: TenantName): string {
  return `REM_${tenant}`;
}

/** Every commit is published on this subject. */
export function commitSubject(tenant: TenantName): string {
  return `rem.${tenant}.commit`;
}

/** The stream owns the tenant's whole subject space, so no other stream can capture its commits. */
export function streamSubjects(tenant: TenantName): string[] {
  return [`rem.${tenant}.>`];
}

export interface StreamSettings {
  readonly tenant: TenantName;
  readonly replicas: number;
  readonly duplicateWindowMs: number;
  /** Largest commit payload; the stream's max_msg_size adds PUBLISH_HEADER_RESERVE for headers. */
  readonly maxCommitBytes: number;
  /** Create the stream when it is missing (otherwise REM_ERR_NOT_FOUND). */
  readonly create: boolean;
}

/** Append-only, unlimited, file-backed: commits are never removed, changed or purged. */
export function streamConfig(s: StreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: streamName(s.tenant),
    subjects: streamSubjects(s.tenant),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: 0,
    max_msgs: -1,
    max_bytes: -1,
    max_msgs_per_subject: -1,
    max_msg_size: s.maxCommitBytes + PUBLISH_HEADER_RESERVE,
    duplicate_window: nanos(s.duplicateWindowMs),
    num_replicas: s.replicas,
    deny_delete: true,
    deny_purge: true,
  };
}

/**
 * Returns the tenant's stream, creating it when missing (and allowed). An
 * existing stream must be one REM can trust with a log: exactly the tenant's
 * subjects, limits retention and no limit that would ever drop a commit;
 * otherwise REM_ERR_LOG_UNAVAILABLE explains what is wrong.
 */
export async function ensureStream(jsm: JetStreamManager, s: StreamSettings): Promise<StreamInfo> {
  const name = streamName(s.tenant);
  const ctx = { tenant: s.tenant, op: `opening stream ${name}` };
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(name);
  } catch (err) {
    if (jsApiCode(err) !== JS_ERR.STREAM_NOT_FOUND) throw toRemError(err, ctx);
    if (!s.create) {
      throw new RemError("REM_ERR_NOT_FOUND", `tenant ${s.tenant}: JetStream stream ${name} does not exist (opened with create: false)`, { tenant: s.tenant }, { cause: err });
    }
    try {
      info = await jsm.streams.add(streamConfig(s));
    } catch (addErr) {
      // Another node created it first with a different config: use theirs if it is sound.
      if (jsApiCode(addErr) !== JS_ERR.STREAM_NAME_IN_USE) throw toRemError(addErr, ctx);
      info = await jsm.streams.info(name).catch((e: unknown) => {
        throw toRemError(e, ctx);
      });
    }
  }
  checkStream(info, s.tenant);
  return info;
}

/** Throws unless the stream can hold the tenant's log without losing or capturing commits. */
export function checkStream(info: StreamInfo, tenant: TenantName): void {
  const c = info.config;
  const want = streamSubjects(tenant);
  const problems: string[] = [];
  const subjects = c.subjects ?? [];
  if (subjects.length !== want.length || subjects.some((s, i) => s !== want[i])) {
    problems.push(`its subjects are ${JSON.stringify(subjects)}, expected ${JSON.stringify(want)}`);
  }
  if (c.retention !== RetentionPolicy.Limits) problems.push(`its retention is ${c.retention}, expected limits`);
  if (c.max_age > 0) problems.push(`it has a max_age (commits would expire)`);
  if (c.max_msgs > 0 || c.max_bytes > 0 || (c.max_msgs_per_subject ?? -1) > 0) problems.push(`it has a message or byte limit (old commits would be dropped)`);
  if (c.sealed === true) problems.push("it is sealed");
  if (problems.length > 0) {
    throw new RemError("REM_ERR_LOG_UNAVAILABLE", `tenant ${tenant}: JetStream stream ${c.name} cannot hold a REM log: ${problems.join("; ")}`, {
      tenant,
      stream: c.name,
    });
  }
}

/** The largest commit payload the stream accepts (its max_msg_size minus the header reserve), or null when unlimited. */
export function streamCommitLimit(info: StreamInfo): number | null {
  const max = info.config.max_msg_size;
  return max === undefined || max < 0 ? null : Math.max(0, max - PUBLISH_HEADER_RESERVE);
}
