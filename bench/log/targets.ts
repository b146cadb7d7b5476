import { atLeast, ratio, type Target } from "../lib/report.js";
import type { EmmettOutcome } from "./emmett.js";
import type { FileResults } from "./file.js";
import type { JetStreamResults } from "./jetstream.js";

export interface TargetSummary {
  /** Every figure against its baseline from the same run (medians), whether or not it has a target. */
  readonly ratios: Record<string, number>;
  /** The goals of the brief: `{value, target, pass}`. */
  readonly targets: Record<string, Target>;
}

const EPS = "events/s";

/**
 * The goals, all on medians of the same run. Read targets apply to the default
 * signature mode ("batch", what replay uses); "all" (every signature, `rem
 * verify`) is reported in the ratios without a target. REM's side of the Emmett
 * ratios is the default read of the plain log. Emmett's in-order read is its
 * global-order consumer, as the issue defines the peer figure (≈ 4k events/s);
 * its raw `readMessagesBatch` paging (which has no consumer semantics and, with
 * concurrent appenders, skips and repeats events) is reported as an extra ratio.
 */
export function summarizeTargets(js: JetStreamResults, file: FileResults, emmett: EmmettOutcome): TargetSummary {
  const a = js.append;
  const r = js.read;
  const ratios: Record<string, number> = {
    "jetstream.appendVsRawPublish": ratio(a.rem.median, a.rawPublish.median),
    "jetstream.appendEncryptedVsAppend": ratio(a.remEncrypted.median, a.rem.median),
    "jetstream.appendEncryptedVsRawPublish": ratio(a.remEncrypted.median, a.rawPublish.median),
    "jetstream.readBatchVsRawConsume": ratio(r.remBatch.median, r.rawConsume.median),
    "jetstream.readAllVsRawConsume": ratio(r.remAll.median, r.rawConsume.median),
    "jetstream.readEncryptedBatchVsRawConsume": ratio(r.remEncryptedBatch.median, r.rawConsume.median),
    "jetstream.readEncryptedAllVsRawConsume": ratio(r.remEncryptedAll.median, r.rawConsume.median),
    "file.appendVsRawWriteGrouped": ratio(file.append.rem.median, file.append.rawWriteGrouped.median),
    "file.appendVsRawWritePerCommit": ratio(file.append.rem.median, file.append.rawWritePerCommit.median),
    "file.readBatchVsRawRead": ratio(file.read.remBatch.median, file.read.rawRead.median),
    "file.readAllVsRawRead": ratio(file.read.remAll.median, file.read.rawRead.median),
  };
  let emmettAppend = Number.NaN;
  let emmettRead = Number.NaN;
  if (!("error" in emmett)) {
    emmettAppend = emmett.append.median;
    emmettRead = emmett.read.readMessagesBatch.median;
    const consumer = emmett.read.consumer.median;
    Object.assign(ratios, {
      "emmett.jetstreamAppendVsEmmettAppend": ratio(a.rem.median, emmettAppend),
      "emmett.fileAppendVsEmmettAppend": ratio(file.append.rem.median, emmettAppend),
      "emmett.jetstreamReadVsEmmettConsumer": ratio(r.remBatch.median, consumer),
      "emmett.fileReadVsEmmettConsumer": ratio(file.read.remBatch.median, consumer),
      "emmett.jetstreamReadVsEmmettReadMessagesBatch": ratio(r.remBatch.median, emmettRead),
      "emmett.fileReadVsEmmettReadMessagesBatch": ratio(file.read.remBatch.median, emmettRead),
    });
  }
  const rt = (key: string): number => ratios[key] ?? Number.NaN;
  const targets: Record<string, Target> = {
    "jetstream.append": atLeast(a.rem.median, 100_000, EPS),
    "jetstream.appendVsRawPublish": atLeast(rt("jetstream.appendVsRawPublish"), 0.4, "x"),
    "jetstream.appendEncryptedVsAppend": atLeast(rt("jetstream.appendEncryptedVsAppend"), 0.8, "x"),
    "jetstream.readBatch": atLeast(r.remBatch.median, 200_000, EPS),
    "jetstream.readBatchVsRawConsume": atLeast(rt("jetstream.readBatchVsRawConsume"), 0.4, "x"),
    "jetstream.readEncryptedBatch": atLeast(r.remEncryptedBatch.median, 200_000, EPS),
    "jetstream.readEncryptedBatchVsRawConsume": atLeast(rt("jetstream.readEncryptedBatchVsRawConsume"), 0.4, "x"),
    "file.append": atLeast(file.append.rem.median, 100_000, EPS),
    "file.readBatch": atLeast(file.read.remBatch.median, 300_000, EPS),
    // Without Emmett figures these stay unproven: value null, pass false (emmett.error says why).
    "emmett.jetstreamAppendVsEmmettAppend": atLeast(rt("emmett.jetstreamAppendVsEmmettAppend"), 5, "x"),
    "emmett.fileAppendVsEmmettAppend": atLeast(rt("emmett.fileAppendVsEmmettAppend"), 5, "x"),
    "emmett.jetstreamReadVsEmmettConsumer": atLeast(rt("emmett.jetstreamReadVsEmmettConsumer"), 20, "x"),
    "emmett.fileReadVsEmmettConsumer": atLeast(rt("emmett.fileReadVsEmmettConsumer"), 20, "x"),
  };
  return { ratios, targets };
}
