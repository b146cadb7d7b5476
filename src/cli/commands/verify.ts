import type { Command } from "commander";
import { asRemError } from "../../errors.js";
import type { TenantLog } from "../../../events/log/tenant-log.js";
import { openKeystore, openTenantLog } from "../../node/open-log.js";
import { readTenantMeta } from "../../node/tenant-meta.js";
import { verifyLog } from "../../../replay/verify.js";
import { configOf } from "../context.js";
import { verifyArchiveCommand } from "./archive.js";
import { EXIT, note, printJson } from "../output.js";

export function registerVerify(program: Command): { exitCode: number } {
  const state = { exitCode: EXIT.ok as number };
  program
    .command("verify")
    .description("audit the tenant's log: frame checksums, hash chain, every signature, decryptability; JSON summary, non-zero exit naming the first bad commit")
    .option("--from <url>", "audit the tenant's archive at s3://bucket/prefix instead of the local log (see `rem archive`)")
    .option("--endpoint <url>", "S3-compatible endpoint for --from (path-style; default AWS, or AWS_ENDPOINT_URL_S3)")
    .action(async (opts: { from?: string; endpoint?: string }, cmd: Command) => {
      const config = configOf(cmd);
      if (opts.from !== undefined) {
        state.exitCode = await verifyArchiveCommand(config, opts.from, opts.endpoint);
        return;
      }
      const meta = await readTenantMeta(config.dataDir, config.tenant);
      const canDecrypt = meta?.encrypted !== true || config.passphrase !== undefined;
      if (!canDecrypt) note("no passphrase: checking chain and signatures only, not decryptability (set REM_PASSPHRASE)");
      const keystore = await openKeystore(config, meta?.encrypted === true && config.passphrase !== undefined);
      let log: TenantLog | undefined;
      try {
        // Opening scans the embedded log's active segment, so damage may surface here already.
        log = await openTenantLog(config, config.tenant, { keystore, write: false });
        printJson(await verifyLog(log, { decrypt: canDecrypt }));
      } catch (err) {
        const e = asRemError(err);
        if (e.code === "REM_ERR_NOT_INITIALIZED" || e.code === "REM_ERR_TENANT_INVALID") throw e;
        printJson({ tenant: config.tenant, ok: false, code: e.code, seq: e.details.seq ?? null, message: e.message, details: e.details });
        state.exitCode = EXIT.error;
      } finally {
        await log?.close();
      }
    });
  return state;
}
