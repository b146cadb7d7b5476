import type { Command } from "commander";
import { RemError } from "../../errors.js";
import type { Event } from "../../../events/model/events.js";
import type { Seq } from "../../../events/model/ids.js";
import { eventFromJson, eventToJson } from "../../../events/model/validate.js";
import { appendCommits } from "../../node/append-commits.js";
import { openKeystore, openTenantLog } from "../../node/open-log.js";
import { readTenantMeta } from "../../node/tenant-meta.js";
import { configOf, intFlag } from "../context.js";
import { printJson, printJsonLine } from "../output.js";
import { stdinLines } from "../stdin.js";

export function registerLog(program: Command): void {
  const log = program.command("log").description("the tenant's event log, the source of truth");

  log
    .command("append")
    .description("append JSONL events from stdin; all lines are validated before anything is written")
    .option("--commit-size <n>", "events per commit (each commit is atomic)", intFlag("commit-size", 1), 100)
    .option("--expected-seq <seq>", "fail with a conflict (exit 3) unless the log ends at this sequence", intFlag("expected-seq", 0))
    .action(async (opts: { commitSize: number; expectedSeq?: number }, cmd: Command) => {
      const config = configOf(cmd);
      const events: Event[] = [];
      for await (const { line, text } of stdinLines()) {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (cause) {
          throw new RemError("REM_ERR_EVENT_INVALID", `line ${line}: not valid JSON (${(cause as Error).message})`, { line }, { cause });
        }
        events.push(eventFromJson(json, `line ${line}`));
      }
      if (events.length === 0) throw new RemError("REM_ERR_COMMIT_EMPTY", "no events on stdin (one JSON event per line)");
      const keystore = await openKeystore(config, true);
      const tenantLog = await openTenantLog(config, config.tenant, { keystore, write: true });
      try {
        const results = await appendCommits(tenantLog, events, { perCommit: opts.commitSize, expectedSeq: opts.expectedSeq as Seq | undefined });
        printJson({
          tenant: config.tenant,
          commits: results.length,
          events: events.length,
          first_seq: results[0]!.seq,
          last_seq: results[results.length - 1]!.seq,
          duplicates: results.filter((r) => r.duplicate).length,
          ids: events.map((e) => e.id),
        });
      } finally {
        await tenantLog.close();
      }
    });

  log
    .command("read")
    .description("print events as JSONL: {seq, ts, commit_id, index, event}")
    .option("--from <seq>", "first commit to print", intFlag("from", 1), 1)
    .option("--limit <n>", "at most this many commits", intFlag("limit", 1))
    .option("--follow", "keep printing new commits until interrupted")
    .option("--events-only", "print bare events (input for `rem log append`)")
    .action(async (opts: { from: number; limit?: number; follow?: boolean; eventsOnly?: boolean }, cmd: Command) => {
      const config = configOf(cmd);
      const meta = await readTenantMeta(config.dataDir, config.tenant);
      const keystore = await openKeystore(config, meta?.encrypted === true && config.passphrase !== undefined);
      const tenantLog = await openTenantLog(config, config.tenant, { keystore, write: false });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        let printed = 0;
        const from = opts.from as Seq;
        const source = opts.follow ? tenantLog.follow(from, { signal: stop.signal }) : tenantLog.read(from, { signal: stop.signal });
        outer: for await (const batch of source) {
          for (const c of batch) {
            const ts = new Date(c.ts).toISOString();
            const evs = tenantLog.events(c);
            for (let i = 0; i < evs.length; i++) {
              const event = eventToJson(evs[i]!);
              await printJsonLine(opts.eventsOnly ? event : { seq: c.seq, ts, commit_id: c.commitId, index: i, event });
            }
            if (opts.limit !== undefined && ++printed >= opts.limit) break outer;
          }
        }
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await tenantLog.close();
      }
    });
}
