import { Command, CommanderError } from "commander";
import { registerAdminCommands } from "./commands/admin.js";
import { registerArchive } from "./commands/archive.js";
import { registerReplay } from "./commands/replay.js";
import { registerEntityCommands } from "./commands/entities.js";
import { registerExportCommands } from "./commands/export.js";
import { registerGraphCommands } from "./commands/graph.js";
import { registerInit } from "./commands/init.js";
import { registerQueryCommand } from "./commands/query.js";
import { registerSchemaCommands } from "./commands/schema.js";
import { registerSearchCommands } from "./commands/search.js";
import { registerKeys } from "./commands/key.js";
import { registerLog } from "./commands/log.js";
import { registerTenant } from "./commands/tenant.js";
import { registerVerify } from "./commands/verify.js";
import { registerServe } from "./commands/serve.js";
import { registerToken } from "./commands/token.js";
import { registerReplicate } from "./commands/replicate.js";
import { EXIT, reportError } from "./output.js";

export function buildProgram(): { program: Command; exitCodes: { exitCode: number }[] } {
  const program = new Command("rem")
    .description("REM: an event-sourced memory database for AI agents")
    .version("0.1.0")
    .option("--data <dir>", "data directory (REM_DATA, default ~/.rem)")
    .option("--tenant <name>", "tenant (REM_TENANT, default \"default\")")
    .option("--nats <url>", "use NATS JetStream at this URL instead of the embedded log (REM_NATS_URL)")
    .option("--password <passphrase>", "keystore passphrase (prefer REM_PASSPHRASE: flags show up in `ps`)")
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerInit(program);
  registerKeys(program);
  registerLog(program);
  const exitCodes = [registerVerify(program)];
  registerTenant(program);
  registerSchemaCommands(program);
  registerEntityCommands(program);
  registerQueryCommand(program);
  registerExportCommands(program);
  exitCodes.push(registerSearchCommands(program));
  registerGraphCommands(program);
  registerAdminCommands(program);
  registerServe(program);
  registerToken(program);
  registerArchive(program);
  registerReplay(program);
  registerReplicate(program);
  for (const c of program.commands) c.exitOverride();
  return { program, exitCodes };
}

/** Runs the CLI; returns the process exit code (0 ok, 1 error, 2 usage, 3 conflict). */
export async function main(argv: string[]): Promise<number> {
  const { program, exitCodes } = buildProgram();
  try {
    await program.parseAsync(argv);
    return Math.max(0, ...exitCodes.map((e) => e.exitCode));
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err);
  }
}
