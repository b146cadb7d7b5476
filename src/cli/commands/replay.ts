import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { openKeystore } from "../../node/open-log.js";
import { openArchiveUrl } from "../../../replay/archive/object-store.js";
import { restoreFromArchive, type RestorePhase } from "../../../replay/restore.js";
import { configOf, intFlag } from "../context.js";
import { printJson } from "../output.js";
import { progressBar } from "../progress.js";

interface ReplayFlags {
  from: string;
  endpoint?: string;
  untilSeq?: number;
  untilTime?: string;
  toNats?: string;
  dryRun?: boolean;
  force?: boolean;
  snapshot: boolean;
}

const LABELS: Record<RestorePhase, string> = {
  download: "download+verify (bytes)",
  snapshot: "snapshot (bytes)",
  projections: "projections (commits)",
  vectors: "HNSW indexes",
  publish: "republish (commits)",
};

export function registerReplay(program: Command): void {
  program
    .command("replay")
    .description("restore a tenant from an S3 archive into --data: verify every segment, chain and signature, rebuild the projections; optionally republish into JetStream")
    .requiredOption("--from <url>", "the archive root, s3://bucket/prefix (as given to `rem archive --s3`)")
    .option("--endpoint <url>", "S3-compatible endpoint (path-style); default AWS, or AWS_ENDPOINT_URL_S3")
    .option("--until-seq <n>", "point-in-time: restore commits 1..N", intFlag("until-seq", 1))
    .option("--until-time <iso>", "point-in-time: restore the longest prefix of commits with ts ≤ this ISO 8601 time")
    .option("--to-nats <url>", "also republish the log into a new JetStream stream on this NATS server (the tenant then lives there)")
    .option("--dry-run", "print the restore plan and touch nothing")
    .option("--force", "replace an existing local tenant directory (never an existing stream)")
    .option("--no-snapshot", "ignore archived projection snapshots: rebuild everything from the log")
    .action(async (opts: ReplayFlags, cmd: Command) => {
      const config = configOf(cmd);
      let untilTime: number | undefined;
      if (opts.untilTime !== undefined) {
        untilTime = Date.parse(opts.untilTime);
        if (!Number.isFinite(untilTime) || !/^\d{4}-\d{2}-\d{2}/.test(opts.untilTime)) {
          throw new RemError("REM_ERR_INVALID_ARGUMENT", `--until-time expects an ISO 8601 time such as 2026-01-31T12:00:00Z, got ${JSON.stringify(opts.untilTime)}`, { field: "until-time" });
        }
      }
      const store = await openArchiveUrl(opts.from, { endpoint: opts.endpoint });
      const bars = new Map<RestorePhase, { bar: ReturnType<typeof progressBar>; done: number }>();
      try {
        // Unlocked when a passphrase is given: an encrypted tenant's projections need its data keys.
        const keystore = await openKeystore(config, config.passphrase !== undefined);
        const result = await restoreFromArchive({
          store,
          tenant: config.tenant,
          dataDir: config.dataDir,
          keystore,
          untilSeq: opts.untilSeq,
          untilTime,
          toNats: opts.toNats === undefined ? undefined : { url: opts.toNats },
          force: opts.force === true,
          dryRun: opts.dryRun === true,
          useSnapshot: opts.snapshot,
          onProgress: (p) => {
            let b = bars.get(p.phase);
            if (b === undefined) {
              for (const other of bars.values()) other.bar.stop();
              b = { bar: progressBar(p.total, LABELS[p.phase], p.phase === "vectors" ? 0 : 1000), done: 0 };
              bars.set(p.phase, b);
            }
            b.bar.increment(p.done - b.done);
            b.done = p.done;
          },
        });
        for (const b of bars.values()) b.bar.stop();
        printJson(result);
      } finally {
        for (const b of bars.values()) b.bar.stop();
        store.close();
      }
    });
}
