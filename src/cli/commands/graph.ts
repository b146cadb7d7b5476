import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { traverse, type Direction } from "../../graph/traverse.js";
import { entityView } from "../../../projections/view.js";
import { addEdge, removeEdge, requireLive } from "../../node/writes.js";
import { intFlag } from "../context.js";
import { printJson } from "../output.js";
import { withTenant } from "../tenant-context.js";

export function registerGraphCommands(program: Command): void {
  const edge = program.command("edge").description("graph edges between entities");

  edge
    .command("add <src> <dst>")
    .description("add a typed edge src → dst (both must exist)")
    .requiredOption("--type <type>", "edge type, e.g. references")
    .option("--props <json>", "edge properties (a JSON object)")
    .action(async (src: string, dst: string, opts: { type: string; props?: string }, cmd: Command) => {
      let props: unknown = {};
      if (opts.props !== undefined) {
        try {
          props = JSON.parse(opts.props) as unknown;
        } catch (cause) {
          throw new RemError("REM_ERR_INVALID_ARGUMENT", `--props is not valid JSON: ${(cause as Error).message}`, { field: "props" }, { cause });
        }
      }
      const r = await withTenant(cmd, "write", (t) => addEdge(t, src, dst, opts.type, props));
      printJson({ src: src.toLowerCase(), dst: dst.toLowerCase(), type: opts.type, seq: r.seq });
    });

  edge
    .command("remove <src> <dst>")
    .description("remove the edge src → dst of a type")
    .requiredOption("--type <type>", "edge type")
    .action(async (src: string, dst: string, opts: { type: string }, cmd: Command) => {
      const r = await withTenant(cmd, "write", (t) => removeEdge(t, src, dst, opts.type));
      printJson({ src: src.toLowerCase(), dst: dst.toLowerCase(), type: opts.type, seq: r.seq });
    });

  program
    .command("traverse <id>")
    .description("breadth-first traversal: each reachable node with its depth and path")
    .option("--depth <n>", "hops (0-10)", intFlag("depth", 0), 1)
    .option("--direction <dir>", "out, in or both", "out")
    .option("--type <type>", "follow only edges of this type")
    .option("--entities", "include each node's entity")
    .action(async (id: string, opts: { depth: number; direction: string; type?: string; entities?: boolean }, cmd: Command) => {
      printJson(
        await withTenant(cmd, "read", async (t) => {
          const start = requireLive(t, id).id;
          const nodes = traverse(t.store, start, { depth: opts.depth, direction: opts.direction as Direction, type: opts.type });
          return opts.entities ? nodes.map((n) => ({ ...n, entity: entityView(t.store.getEntity(n.id)!) })) : nodes;
        }),
      );
    });
}
