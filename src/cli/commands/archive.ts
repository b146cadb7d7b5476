import type { Command } from "commander";
import { layout, type RemConfig } from "../../config/config.js";
import { RemError, asRemError } from "../../errors.js";
import type { TenantLog } from "../../../events/log/tenant-log.js";
import { openKeystore, openTenantLog } from "../../node/open-log.js";
import { requireTenantMeta } from "../../node/tenant-meta.js";
import { Tenant } from "../../node/tenant.js";
import { Archiver, DEFAULT_MAX_DELAY_MS, DEFAULT_SEGMENT_BYTES } from "../../../replay/archive/archiver.js";
import { requireManifest } from "../../../replay/archive/manifest.js";
import { DEFAULT_RETIRE_GRACE_MS } from "../../../replay/archive/compact.js";
import { openArchiveUrl, type ObjectStore } from "../../../replay/archive/object-store.js";
import { uploadSnapshot } from "../../../replay/archive/snapshot.js";
import { verifyArchive } from "../../../replay/archive/verify-archive.js";
import { configOf, intFlag } from "../context.js";
import { EXIT, note, printJson, printJsonLine } from "../output.js";
import { progressBar } from "../progress.js";

interface ArchiveFlags {
  s3: string;
  endpoint?: string;
  follow?: boolean;
  maxDelay: number;
  segmentBytes: number;
  snapshot?: boolean;
  keepSnapshots: number;
  /** undefined unless --compact or --no-compact is given. */
  compact?: boolean;
  retireGrace: number;
}

export function registerArchive(program: Command): void {
  program
    .command("archive")
    .description("upload the tenant's log to S3 as sealed segment objects plus a manifest (resumes from the archived head); --follow keeps archiving")
    .requiredOption("--s3 <url>", "the archive root, s3://bucket/prefix (the tenant's objects go under <prefix>/<tenant>/)")
    .option("--endpoint <url>", "S3-compatible endpoint (MinIO, Ceph…; path-style addressing); default AWS, or AWS_ENDPOINT_URL_S3")
    .option("--follow", "keep archiving new commits until SIGINT/SIGTERM (one JSON line per upload on stdout)")
    .option("--max-delay <seconds>", "with --follow: upload new commits at most this long after they arrive", intFlag("max-delay", 1), DEFAULT_MAX_DELAY_MS / 1000)
    .option("--segment-bytes <n>", "cut a segment object at this size", intFlag("segment-bytes", 4096), DEFAULT_SEGMENT_BYTES)
    .option("--snapshot", "also upload a projection snapshot (store dump + HNSW indexes) at the projections' checkpoint; needs the projections not open elsewhere")
    .option("--keep-snapshots <n>", "with --snapshot: keep this many snapshots, delete older ones", intFlag("keep-snapshots", 1), 2)
    .option("--compact", "after archiving, merge runs of small segment objects into segments of up to --segment-bytes (--follow does it as it goes)")
    .option("--no-compact", "with --follow: do not merge small segments")
    .option("--retire-grace <seconds>", "delete replaced segment objects only this long after a compaction replaced them", intFlag("retire-grace", 0), DEFAULT_RETIRE_GRACE_MS / 1000)
    .action(async (opts: ArchiveFlags, cmd: Command) => {
      const config = configOf(cmd);
      if (opts.follow && opts.snapshot) throw new RemError("REM_ERR_INVALID_ARGUMENT", "--snapshot runs once; run it separately from --follow (see docs/operations.md)", { field: "snapshot" });
      const meta = await requireTenantMeta(config.dataDir, config.tenant);
      if (opts.snapshot && meta.encrypted) {
        throw new RemError(
          "REM_ERR_INVALID_ARGUMENT",
          `tenant ${config.tenant} is encrypted: its projections are plaintext, so snapshotting them to S3 would bypass encryption and crypto-shredding; archive the log only`,
          { tenant: config.tenant, field: "snapshot" },
        );
      }
      const store = await openArchiveUrl(opts.s3, { endpoint: opts.endpoint });
      try {
        if (opts.snapshot) {
          printJson(await archiveWithSnapshot(config, store, opts));
          return;
        }
        const keystore = await openKeystore(config, false);
        const log = await openTenantLog(config, config.tenant, { keystore, write: false });
        try {
          const archiver = await Archiver.open(log, store);
          if (!opts.follow) {
            const summary = await archiveOnce(archiver, opts.segmentBytes);
            if (opts.compact !== true) printJson(summary);
            else printJson({ ...summary, compaction: await archiver.compact({ segmentBytes: opts.segmentBytes, graceMs: opts.retireGrace * 1000 }), segments_total: archiver.manifest.segments.length });
            return;
          }
          const stop = new AbortController();
          const onSignal = () => stop.abort();
          process.once("SIGINT", onSignal);
          process.once("SIGTERM", onSignal);
          try {
            const summary = await archiver.follow({
              signal: stop.signal,
              maxDelayMs: opts.maxDelay * 1000,
              segmentBytes: opts.segmentBytes,
              compact: opts.compact !== false,
              retireGraceMs: opts.retireGrace * 1000,
              onUpload: (e) => void printJsonLine({ event: "uploaded", ...e }),
              onMerge: (e) => void printJsonLine({ event: "merged", ...e }),
              onError: (err) => note(`upload failed, will retry: ${JSON.stringify(err.toJSON())}`),
            });
            await printJsonLine({ event: "stopped", ...summary });
          } finally {
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
          }
        } finally {
          await log.close();
        }
      } finally {
        store.close();
      }
    });
}

async function archiveOnce(archiver: Archiver, segmentBytes: number) {
  const log: TenantLog = archiver.log;
  const from = archiver.manifest.head?.seq ?? 0;
  const head = (await log.head()).seq;
  const bar = progressBar(head - from, "archive", 1000);
  try {
    return await archiver.archive({ segmentBytes, onUpload: (e) => bar.increment(e.commits) });
  } finally {
    bar.stop();
  }
}

/** Catches the projections up, archives the log, then uploads a snapshot of the projections at their checkpoint. */
async function archiveWithSnapshot(config: RemConfig, store: ObjectStore, opts: ArchiveFlags) {
  // Unlocked: the snapshot is signed with the node's key (a restore loads only signed snapshots).
  const keystore = await openKeystore(config, true);
  const signer = await keystore.signer();
  const tenant = await Tenant.open(config, config.tenant, { keystore, write: false });
  try {
    const archiver = await Archiver.open(tenant.log, store);
    const summary = await archiveOnce(archiver, opts.segmentBytes);
    // The HNSW indexes as of the store's checkpoint: loaded (or built), snapshotted to disk, then uploaded with the store.
    const vectors = await tenant.vectors();
    await vectors.snapshot();
    const snapshot = await uploadSnapshot({ archiver, projections: tenant.store, vectorsDir: layout.vectors(config.dataDir, config.tenant), keep: opts.keepSnapshots, signer });
    return { ...summary, snapshot };
  } finally {
    await tenant.close();
  }
}

/** `rem verify --from s3://…`: prints the audit summary, or {ok: false, code, seq, object, message}; returns the exit code. */
export async function verifyArchiveCommand(config: RemConfig, url: string, endpoint: string | undefined): Promise<number> {
  const store = await openArchiveUrl(url, { endpoint });
  try {
    const keystore = await openKeystore(config, config.passphrase !== undefined);
    let bar: ReturnType<typeof progressBar> | null = null;
    let done = 0;
    try {
      const manifest = await requireManifest(store, config.tenant);
      const decrypt = !manifest.encrypted || config.passphrase !== undefined;
      if (!decrypt) note("no passphrase: checking chain and signatures only, not decryptability (set REM_PASSPHRASE)");
      const summary = await verifyArchive({
        store,
        tenant: config.tenant,
        keystore,
        decrypt,
        onProgress: (seq, head) => {
          bar ??= progressBar(head, "verify", 1000);
          bar.increment(seq - done);
          done = seq;
        },
      });
      (bar as ReturnType<typeof progressBar> | null)?.stop();
      printJson(summary);
      return EXIT.ok;
    } catch (err) {
      (bar as ReturnType<typeof progressBar> | null)?.stop();
      const e = asRemError(err);
      if (e.code === "REM_ERR_ARCHIVE_ACCESS_DENIED" || e.code === "REM_ERR_ARCHIVE_UNAVAILABLE" || e.code === "REM_ERR_NOT_INITIALIZED") throw e;
      printJson({ tenant: config.tenant, ok: false, code: e.code, seq: e.details.seq ?? null, object: e.details.object ?? null, message: e.message, details: e.details });
      return EXIT.error;
    }
  } finally {
    store.close();
  }
}
