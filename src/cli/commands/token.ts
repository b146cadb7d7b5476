import type { Command } from "commander";
import { RemError } from "../../errors.js";
import { TokenStore } from "../../server/auth/token-store.js";
import { readTenantMeta } from "../../node/tenant-meta.js";
import { configOf } from "../context.js";
import { note, printJson } from "../output.js";

/**
 * `rem token create|list|revoke`: bearer tokens for the HTTP server, stored
 * hashed in `<data>/auth/tokens.json`. A running server sees changes at once
 * (new tokens) or within a second (revocations).
 */
export function registerToken(program: Command): void {
  const token = program.command("token").description("HTTP bearer tokens: create, list, revoke");

  token
    .command("create")
    .description("issue a token for one tenant (--tenant), or an admin token (--admin); printed once")
    .option("--read-only", "the token may read but not write")
    .option("--admin", "an admin token (every tenant, node administration)")
    .option("--label <text>", "a note shown by `rem token list`")
    .action(async (o: { readOnly?: boolean; admin?: boolean; label?: string }, cmd: Command) => {
      const config = configOf(cmd);
      const store = new TokenStore(config.dataDir);
      if (o.admin) {
        if (o.readOnly) throw new RemError("REM_ERR_INVALID_ARGUMENT", "--admin and --read-only do not combine", { field: "read-only" });
        const r = await store.createAdminToken(o.label);
        printJson({ id: r.id, token: r.token, kind: "admin" });
        return;
      }
      if ((await readTenantMeta(config.dataDir, config.tenant)) === null) note(`tenant ${config.tenant} is not initialised on this node yet (the token works once it is)`);
      const r = await store.createTenantToken(config.tenant, o.readOnly === true, o.label);
      printJson({ id: r.id, token: r.token, kind: "tenant", tenant: config.tenant, read_only: o.readOnly === true });
      note("the token is shown once; it is stored hashed");
    });

  token
    .command("list")
    .description("tokens: ids, scopes and labels (never the tokens)")
    .action(async (_o: object, cmd: Command) => {
      printJson(await new TokenStore(configOf(cmd).dataDir).list());
    });

  token
    .command("revoke <id>")
    .description("revoke a token by id")
    .action(async (id: string, _o: object, cmd: Command) => {
      if (!(await new TokenStore(configOf(cmd).dataDir).revoke(id))) throw new RemError("REM_ERR_NOT_FOUND", `no token ${id}`, {});
      printJson({ revoked: id });
    });
}
