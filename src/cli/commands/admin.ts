import type { Command } from "commander";
import { layout } from "../../config/config.js";
import { readTenantMeta } from "../../node/tenant-meta.js";
import { VectorIndexSet } from "../../../projections/vectors/index-set.js";
import { printJson } from "../output.js";
import { withTenant } from "../tenant-context.js";

export function registerAdminCommands(program: Command): void {
  program
    .command("rebuild")
    .description("drop the tenant's projections and replay its log; reports events and seconds")
    .action(async (_o: object, cmd: Command) => {
      printJson(
        await withTenant(cmd, "read", async (t) => {
          const r = await t.rebuild();
          return { tenant: t.name, commits: r.commits, events: r.events, seq: r.seq, seconds: r.seconds, events_per_second: r.seconds > 0 ? Math.round(r.events / r.seconds) : null };
        }, { sync: false }),
      );
    });

  program
    .command("status")
    .description("backend, log head, projection checkpoint and lag (without catching up)")
    .action(async (_o: object, cmd: Command) => {
      printJson(
        await withTenant(cmd, "read", async (t, config) => {
          const meta = await readTenantMeta(config.dataDir, t.name);
          const head = await t.log.head();
          const cp = t.store.checkpoint;
          const schemas = await t.store.listSchemas();
          const snapshot = await VectorIndexSet.describe(layout.vectors(config.dataDir, t.name));
          return {
            tenant: t.name,
            data_dir: config.dataDir,
            backend: t.log.backendKind,
            encrypted: meta?.encrypted ?? false,
            log: { head_seq: head.seq, head_hash: head.hash, head_ts: head.seq === 0 ? null : new Date(head.ts).toISOString() },
            projection: { path: layout.store(config.dataDir, t.name), seq: cp?.seq ?? 0, lag: head.seq - (cp?.seq ?? 0) },
            schemas: schemas.map((s) => s.name),
            embeddings: {
              backlog: await t.store.pendingCounts(),
              // The HNSW indexes as last snapshotted (loading them just for status would be slow for large ones).
              indexes: snapshot?.indexes ?? [],
              snapshot: snapshot === null ? null : { seq: snapshot.seq, created_at: snapshot.createdAt, age_s: Math.round((Date.now() - Date.parse(snapshot.createdAt)) / 1000) },
            },
          };
        }, { sync: false }), // report the lag as found; reads catch up on their own
      );
    });
}
