import { rename } from "node:fs/promises";
import { join } from "node:path";
import { layout } from "../../src/config/config.js";
import { readJson, writeFileDurable } from "../../events/keys/files.js";
import type { TenantName } from "../../events/model/ids.js";

/**
 * What a replica reports about itself (`rem replication status`, the server's
 * /ready and /metrics). Sequences are commit sequences; times are ISO strings
 * or milliseconds.
 */
export interface ReplicationStatus {
  readonly v: 1;
  readonly tenant: TenantName;
  readonly role: "replica";
  /** The stream followed (NATS URL without credentials). */
  readonly source: string | null;
  /** The last commit applied to this replica's projections. */
  readonly position: { readonly seq: number; readonly ts: string | null };
  /** The primary's head when last asked (null: never reached). */
  readonly head: { readonly seq: number; readonly ts: string | null; readonly checked_at: string } | null;
  /** Commits in the stream not applied here yet (as of the last head check or batch). */
  readonly lag_commits: number;
  /** Writer-clock time between the last applied commit and the head; 0 when caught up. */
  readonly lag_ms: number;
  /** For the last applied batch: apply time minus its last commit's timestamp (end-to-end delay). */
  readonly apply_delay_ms: number | null;
  readonly connected: boolean;
  /** Whether the follower is running (false once stopped, or for a `--once` run). */
  readonly following: boolean;
  readonly last_error: { readonly code: string; readonly message: string; readonly at: string } | null;
  readonly applied_commits: number;
  readonly started_at: string;
  readonly updated_at: string;
  readonly pid: number;
}

/**
 * How far a replica at `position` trails a head: in commits, and in writer-clock
 * ms from its last applied commit to the head (0 when caught up, or when either
 * timestamp is unknown).
 */
export function lagOf(head: { seq: number; ts: number | null }, position: { seq: number; ts: number | null }): { lag_commits: number; lag_ms: number } {
  const commits = Math.max(0, head.seq - position.seq);
  if (commits === 0 || head.ts === null) return { lag_commits: commits, lag_ms: 0 };
  return { lag_commits: commits, lag_ms: Math.max(0, head.ts - (position.ts ?? head.ts)) };
}

export function replicationStatusPath(dataDir: string, tenant: TenantName): string {
  return join(layout.tenant(dataDir, tenant), "replication.json");
}

/** Written to a temp file and renamed: a reader never sees half a status. */
export async function writeReplicationStatus(dataDir: string, status: ReplicationStatus): Promise<void> {
  const path = replicationStatusPath(dataDir, status.tenant);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFileDurable(tmp, JSON.stringify(status, null, 2) + "\n", 0o644);
  await rename(tmp, path);
}

export async function readReplicationStatus(dataDir: string, tenant: TenantName): Promise<ReplicationStatus | null> {
  return readJson<ReplicationStatus>(replicationStatusPath(dataDir, tenant));
}

/** A NATS URL as it may be shown: user and password removed. */
export function redactUrl(url: string | undefined): string | null {
  if (url === undefined) return null;
  return url
    .split(",")
    .map((u) => {
      try {
        const parsed = new URL(u.includes("://") ? u : `nats://${u}`);
        parsed.username = "";
        parsed.password = "";
        return parsed.toString().replace(/\/$/, "");
      } catch {
        return "(unparseable url)";
      }
    })
    .join(",");
}
