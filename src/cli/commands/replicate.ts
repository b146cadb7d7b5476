import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { parseCommit } from "../../../events/codec/commit.js";
import { openBackend, openKeystore } from "../../node/open-log.js";
import { Tenant } from "../../node/tenant.js";
import { Follower } from "../../../replay/replica/follower.js";
import { prepareReplica } from "../../../replay/replica/setup.js";
import { lagOf, readReplicationStatus, redactUrl, writeReplicationStatus, type ReplicationStatus } from "../../../replay/replica/status.js";
import { configOf, intFlag } from "../context.js";
import { note, printJson } from "../output.js";

interface ReplicateFlags {
  readonly once?: boolean;
  readonly follow?: boolean;
  readonly statusEveryMs: number;
}

/** A status older than this, or written by a process that is gone, is not "running". */
const STALE_MS = 5_000;

export function registerReplicate(program: Command): void {
  program
    .command("replicate")
    .description(
      "follow the tenant's JetStream stream (--nats) into this data directory's projections, as a read replica: verifies chain and signatures, resumes from its own checkpoint after any drop. --once catches up and exits; --follow (the default) keeps following until SIGINT/SIGTERM",
    )
    .option("--once", "catch up with the stream's head, print a summary, exit")
    .option("--follow", "keep following (default)")
    .option("--status-every-ms <n>", "how often the status file (`rem replication status`) is rewritten", intFlag("status-every-ms", 100), 1000)
    .action(async (o: ReplicateFlags, cmd: Command) => {
      if (o.once && o.follow) throw new RemError("REM_ERR_INVALID_ARGUMENT", "--once and --follow exclude each other", { field: "once" });
      const config = configOf(cmd);
      const meta = await prepareReplica(config, config.tenant);
      const keystore = await openKeystore(config, meta.encrypted && config.passphrase !== undefined);
      const tenant = await Tenant.open(config, config.tenant, { keystore, write: false, sync: false });
      const source = redactUrl(config.natsUrl);
      const follower = new Follower(tenant, { source });
      try {
        if (o.once) {
          const started = performance.now();
          const r = await tenant.sync((await tenant.log.head()).seq);
          await follower.refreshHead();
          const status = follower.status();
          await writeReplicationStatus(config.dataDir, status);
          printJson({ ...status, caught_up: { commits: r.commits, events: r.events, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) } });
          return;
        }
        await followUntilSignal(config.dataDir, tenant, follower, o.statusEveryMs);
        printJson(follower.status());
      } finally {
        await tenant.close();
      }
    });

  program
    .command("replication")
    .description("replica state")
    .command("status")
    .description(
      "print the replica's state as JSON: tenant, position, head, lag in commits and ms, connected, last error, whether `rem replicate` is running; with --nats the head is asked from the stream now",
    )
    .action(async (_o: object, cmd: Command) => {
      const config = configOf(cmd);
      const status = await readReplicationStatus(config.dataDir, config.tenant);
      if (status === null) {
        throw new RemError("REM_ERR_NOT_INITIALIZED", `no replica of tenant ${config.tenant} in ${config.dataDir}: run \`rem replicate --nats URL --tenant ${config.tenant} --data ${config.dataDir}\``, {
          tenant: config.tenant,
        });
      }
      printJson({ ...(await withLiveHead(config, status)), running: isRunning(status) });
    });
}

async function followUntilSignal(dataDir: string, tenant: Tenant, follower: Follower, statusEveryMs: number): Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  let failed: unknown = null;
  const save = (): void => {
    // One write at a time, always the freshest status.
    writing = writing.then(() => writeReplicationStatus(dataDir, follower.status())).catch((err: unknown) => {
      failed ??= err;
    });
  };
  let lastError: string | null = null;
  const done = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      note(`${signal}: stopping after the batch in progress`);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  const timer = setInterval(() => {
    const s = follower.status();
    const e = s.last_error === null ? null : `${s.last_error.code}: ${s.last_error.message}`;
    if (e !== null && e !== lastError) note(`replication error (retrying): ${e}`);
    lastError = e;
    save();
  }, statusEveryMs);
  note(`following tenant ${tenant.name} from commit ${(tenant.store.checkpoint?.seq ?? 0) + 1}`);
  follower.start();
  save();
  try {
    await done;
  } finally {
    clearInterval(timer);
    await follower.stop();
    save();
    await writing;
  }
  if (failed !== null) throw failed;
}

/** With --nats, the head is asked from the stream now (the status file may be old). */
async function withLiveHead(config: ReturnType<typeof configOf>, status: ReplicationStatus): Promise<ReplicationStatus> {
  if (config.natsUrl === undefined) return status;
  const backend = await openBackend(config, config.tenant, { write: false });
  try {
    const last = await backend.last();
    const seq = last?.seq ?? 0;
    const ts = last === null ? null : parseCommit(last.bytes, last.seq).header.ts;
    const at = status.position.ts === null ? null : Date.parse(status.position.ts);
    return {
      ...status,
      head: { seq, ts: ts === null ? null : new Date(ts).toISOString(), checked_at: new Date().toISOString() },
      ...lagOf({ seq, ts }, { seq: status.position.seq, ts: at }),
    };
  } finally {
    await backend.close();
  }
}

function isRunning(status: ReplicationStatus): boolean {
  if (!status.following || Date.now() - Date.parse(status.updated_at) > STALE_MS) return false;
  try {
    process.kill(status.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
