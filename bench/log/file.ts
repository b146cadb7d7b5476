import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { FileLog } from "../../events/log/file/file-log.js";
import { parseSegmentFileName } from "../../events/log/file/segment-header.js";
import { TenantLog } from "../../events/log/tenant-log.js";
import { tenantName } from "../../events/model/ids.js";
import { countDatasyncs } from "../lib/datasync-counter.js";
import { latencies, median, type LatencySummary } from "../lib/stats.js";
import { measure, type Rate, type RunSample } from "../lib/timing.js";
import type { LogBenchConfig } from "./config.js";
import { interleaved, WARMUP } from "./interleave.js";
import type { BenchKeys } from "./keys.js";
import { appendAll, readAll } from "./rem-ops.js";
import type { Workload } from "./workload.js";

export interface FileResults {
  readonly append: { rawWriteGrouped: Rate; rawWritePerCommit: Rate; rem: Rate };
  readonly appendLatencyMs: LatencySummary;
  /** How the file log grouped its commits: fdatasyncs per run and commits per fdatasync (median over repetitions). */
  readonly groupCommit: { fdatasyncs: number; commitsPerFdatasync: number; bytesPerFdatasync: number };
  readonly read: { rawRead: Rate; remBatch: Rate; remAll: Rate };
}

/** FileLog's read chunk: the raw read uses the same, so only the per-commit work differs. */
const READ_CHUNK = 1 << 20;
const tenant = tenantName("file");

/**
 * Figure 6: the embedded file log (TenantLog over FileLog, durable appends)
 * against raw fs loops over the same bytes in the same temp directory.
 *
 * Raw write baselines, both `write` + `fdatasync` loops over the exact commit bytes:
 * - grouped: as many commits per fdatasync as the file log itself achieved in
 *   the same repetition (counted, see datasync-counter.ts): what the disk
 *   allows at that group-commit size, i.e. the like-for-like ceiling;
 * - per commit: one fdatasync per 100-event commit, what a naive durable
 *   appender would do (shows what group commit buys).
 * The raw read reads the file log's own segment files in 1 MiB chunks.
 * Both reads find the files in the page cache (they were just written), alike.
 */
export async function fileBench(root: string, cfg: LogBenchConfig, work: Workload, keys: BenchKeys): Promise<FileResults> {
  const latency: number[] = [];
  type Group = { fdatasyncs: number; commitsPer: number; bytesPer: number };
  const groups: Group[] = [];
  // Set by each file log run; the raw grouped write that follows it in the same repetition copies its group size.
  let lastGroup: Group | null = null;
  const logDir = (rep: number): string => join(root, `log${rep}`);

  const remAppend = async (rep: number): Promise<RunSample> => {
    const dir = logDir(rep);
    const backend = await FileLog.open({ dir, tenant });
    const log = await TenantLog.open({ backend, signer: keys.signer, trusted: keys.trusted });
    try {
      const { result, datasyncs } = await countDatasyncs(() => appendAll(log, work, cfg, rep === WARMUP ? [] : latency));
      // Each new segment's header is fdatasynced once too: those are not group commits.
      const segmentsAdded = (await segmentFiles(dir)).length - 1;
      const commitSyncs = Math.max(1, datasyncs - segmentsAdded);
      lastGroup = { fdatasyncs: commitSyncs, commitsPer: work.rawCommits.length / commitSyncs, bytesPer: work.rawBytes / commitSyncs };
      if (rep !== WARMUP) groups.push(lastGroup);
      return result;
    } finally {
      await log.close();
      if (rep > 0) await rm(dir, { recursive: true, force: true });
    }
  };

  const rawWrite = (perCommit: boolean) => async (rep: number): Promise<RunSample> => {
    const size = perCommit ? 1 : Math.max(1, Math.round(lastGroup?.commitsPer ?? 1));
    const chunks = concatGroups(work.rawCommits, size);
    const path = join(root, `raw-write-${perCommit ? "commit" : "grouped"}-${rep}.bin`);
    const fh = await open(path, "w");
    try {
      let pos = 0;
      return await measure(
        () => work.events,
        async () => {
          for (const c of chunks) {
            await fh.write(c, 0, c.length, pos);
            pos += c.length;
            await fh.datasync();
          }
        },
      );
    } finally {
      await fh.close();
      await rm(path, { force: true });
    }
  };

  const append = await interleaved("file append", cfg.reps, {
    rem: remAppend,
    rawWriteGrouped: rawWrite(false),
    rawWritePerCommit: rawWrite(true),
  });

  const remRead = (mode: "batch" | "all") => async (): Promise<RunSample> => {
    // A reader beside (here: after) the writer, as replay opens it; opening (which scans the active segment) is not timed.
    const backend = await FileLog.open({ dir: logDir(0), tenant, readOnly: true });
    const log = await TenantLog.open({ backend, trusted: keys.trusted });
    try {
      return await readAll(log, mode, work.events);
    } finally {
      await log.close();
    }
  };

  const rawRead = async (): Promise<RunSample> => {
    const dir = logDir(0);
    const files = await segmentFiles(dir);
    const buf = new Uint8Array(READ_CHUNK);
    let bytes = 0;
    const sample = await measure(
      () => work.events,
      async () => {
        for (const name of files) {
          const fh = await open(join(dir, name), "r");
          try {
            for (;;) {
              const { bytesRead } = await fh.read(buf, 0, buf.length, null);
              if (bytesRead === 0) break;
              bytes += bytesRead;
            }
          } finally {
            await fh.close();
          }
        }
      },
    );
    if (bytes < work.rawBytes) throw new Error(`raw read found ${bytes} bytes, the log holds at least ${work.rawBytes}`);
    return sample;
  };

  const read = await interleaved("file read", cfg.reps, { rawRead, remBatch: remRead("batch"), remAll: remRead("all") });

  return {
    append,
    appendLatencyMs: latencies(latency),
    groupCommit: {
      fdatasyncs: median(groups.map((g) => g.fdatasyncs)),
      commitsPerFdatasync: median(groups.map((g) => g.commitsPer)),
      bytesPerFdatasync: median(groups.map((g) => g.bytesPer)),
    },
    read,
  };
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => parseSegmentFileName(n) !== null).sort();
}

/** The commits concatenated `size` at a time: what one raw write + fdatasync carries. Built before timing starts. */
function concatGroups(commits: readonly Uint8Array[], size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < commits.length; i += size) {
    const group = commits.slice(i, i + size);
    const buf = new Uint8Array(group.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of group) {
      buf.set(c, off);
      off += c.length;
    }
    out.push(buf);
  }
  return out;
}
