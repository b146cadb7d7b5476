import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { entityView } from "../../../projections/view.js";
import { deleteEntity, insertEntities, requireLive } from "../../node/writes.js";
import { intFlag } from "../context.js";
import { note, printJson } from "../output.js";
import { progressBar } from "../progress.js";
import { stdinLines } from "../stdin.js";
import { withTenant } from "../tenant-context.js";

export function registerEntityCommands(program: Command): void {
  program
    .command("insert <schema> [json]")
    .description("insert (upsert) an entity, or JSONL from stdin with --batch; prints {ids, seq}")
    .option("--batch", "read one JSON object per line from stdin; all lines are validated before anything is written")
    .option("--commit-size <n>", "entities per commit in a batch (each commit is atomic)", intFlag("commit-size", 1), 1000)
    .option("--no-embed", "do not embed now (bulk loads): texts wait in the backlog for `rem embed`")
    .action(async (schema: string, json: string | undefined, opts: { batch?: boolean; commitSize: number; embed: boolean }, cmd: Command) => {
      const objects: unknown[] = [];
      const lines: number[] = [];
      if (opts.batch) {
        if (json !== undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "give JSON as an argument or --batch on stdin, not both", { field: "batch" });
        for await (const { line, text } of stdinLines()) {
          objects.push(parseJson(text, `line ${line}`, line));
          lines.push(line);
        }
        if (objects.length === 0) throw new RemError("REM_ERR_INVALID_ARGUMENT", "no JSON lines on stdin", { field: "batch" });
      } else {
        if (json === undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "give the entity as a JSON argument, or use --batch with JSONL on stdin", { field: "json" });
        objects.push(parseJson(json, "entity"));
      }
      const result = await withTenant(cmd, "write", async (t) => {
        const bar = progressBar(objects.length, "inserting");
        try {
          return await insertEntities(t, schema, objects, {
            where: opts.batch ? (i) => `line ${lines[i]}` : () => "entity",
            perCommit: opts.commitSize,
            onProgress: (n) => bar.increment(n),
            embed: opts.embed,
          });
        } finally {
          bar.stop();
        }
      });
      printJson(result);
      if (result.embeddings?.error) note(`stored, but not embedded yet (${result.embeddings.error.message}); run \`rem embed\` once the provider is back`);
    });

  program
    .command("get <id>")
    .description("print an entity with its system fields; exits 1 when it does not exist")
    .option("--include-deleted", "print a deleted entity (with deleted_at) instead of failing")
    .action(async (id: string, opts: { includeDeleted?: boolean }, cmd: Command) => {
      printJson(
        await withTenant(cmd, "read", async (t) => {
          const norm = id.toLowerCase();
          if (!opts.includeDeleted) requireLive(t, norm);
          const rec = t.store.getEntity(norm);
          if (rec === undefined) requireLive(t, norm); // throws the right not-found
          return entityView(rec!, t.store.outEdges(norm));
        }),
      );
    });

  program
    .command("lookup <key>")
    .description("find entities by natural key (uri, key field, key or name) across schemas")
    .action(async (key: string, _o: object, cmd: Command) => {
      printJson(
        await withTenant(cmd, "read", async (t) =>
          t.store.lookupKey(key).map(({ id }) => entityView(t.store.getEntity(id)!)),
        ),
      );
    });

  program
    .command("delete <id>")
    .description("delete an entity (a tombstone: it leaves queries and lookups; the log keeps its history)")
    .action(async (id: string, _o: object, cmd: Command) => {
      printJson(await withTenant(cmd, "write", (t) => deleteEntity(t, id)));
    });
}

function parseJson(text: string, where: string, line?: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new RemError("REM_ERR_ENTITY_INVALID", `${where}: not valid JSON (${(cause as Error).message})`, line === undefined ? {} : { line }, { cause });
  }
}
