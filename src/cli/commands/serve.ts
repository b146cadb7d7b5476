import type { Command } from "commander";
import { layout, type RemConfig } from "../../config/config.js";
import { RemError } from "../../errors.js";
import { Keystore } from "../../../events/keys/keystore.js";
import { findTemplate, fromTemplate } from "../../../schema/templates/templates.js";
import { initTenant } from "../../node/init-tenant.js";
import { backendKind, openKeystore } from "../../node/open-log.js";
import { readTenantMeta } from "../../node/tenant-meta.js";
import { Tenant } from "../../node/tenant.js";
import { registerSchema } from "../../node/writes.js";
import { startServer } from "../../server/server.js";
import { configOf, intFlag } from "../context.js";
import { note } from "../output.js";
import { withPassphrase } from "../passphrase.js";

interface ServeFlags {
  host: string;
  port: number;
  init?: boolean;
  rateLimit: number;
  bodyLimitMb: number;
  maxTenants: number;
  logLevel: string;
  replica?: boolean;
  primary?: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve the HTTP API (loopback by default); needs the keystore passphrase to sign appends (a --replica needs it only for encrypted tenants)")
    .option("--host <addr>", "address to bind (0.0.0.0 exposes the server: put TLS in front)", "127.0.0.1")
    .option("--port <n>", "port (0 picks a free one)", intFlag("port", 0), 8000)
    .option("--init", "first run: create the keystore, signing key and the --tenant (with a `resources` schema) when missing")
    .option("--rate-limit <n>", "requests per second per tenant (0: no limit)", intFlag("rate-limit", 0), 10_000)
    .option("--body-limit-mb <n>", "largest request body, MiB", intFlag("body-limit-mb", 1), 16)
    .option("--max-tenants <n>", "tenants kept open at once", intFlag("max-tenants", 1), 64)
    .option("--log-level <level>", "fatal, error, warn, info, debug", "info")
    .option("--replica", "serve reads as a replica: follow each tenant's JetStream stream (--nats) live, refuse writes")
    .option("--primary <url>", "a replica names this URL in the problem a refused write gets")
    .action(async (o: ServeFlags, cmd: Command) => {
      if (o.replica && o.init) throw new RemError("REM_ERR_INVALID_ARGUMENT", "--init creates tenants: a replica follows tenants the primary created", { field: "init" });
      const config = o.replica ? configOf(cmd) : await withPassphrase(configOf(cmd), "keystore passphrase: ");
      if (o.replica) {
        if (config.natsUrl === undefined) throw new RemError("REM_ERR_INVALID_ARGUMENT", "a replica follows JetStream streams: pass --nats URL (or set REM_NATS_URL)", { field: "nats" });
      } else if (config.passphrase === undefined) {
        throw new RemError("REM_ERR_PASSPHRASE_REQUIRED", "rem serve signs every append with this node's key: set REM_PASSPHRASE (or pass --password)", { path: layout.keys(config.dataDir) });
      }
      const keystore = o.init ? await firstRun(config) : await openKeystore(config, !o.replica || config.passphrase !== undefined);
      const server = await startServer({
        config,
        keystore,
        host: o.host,
        port: o.port,
        rateLimitPerSecond: o.rateLimit,
        bodyLimit: o.bodyLimitMb * 1024 * 1024,
        maxOpenTenants: o.maxTenants,
        adminToken: process.env.REM_ADMIN_TOKEN,
        logLevel: o.logLevel,
        replica: o.replica === true,
        primary: o.primary,
      });
      printBanner(config, server.url, server.generatedAdminToken, o.host, o.replica === true);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          note(`${signal}: finishing in-flight requests, closing tenants`);
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          server.close().then(resolve, (err: unknown) => {
            note(`shutdown: ${err instanceof Error ? err.message : String(err)}`);
            resolve();
          });
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      note("stopped");
    });
}

/** `--init`: everything a first start needs, each step idempotent. */
async function firstRun(config: RemConfig): Promise<Keystore> {
  const keysDir = layout.keys(config.dataDir);
  let keystore: Keystore;
  if (await Keystore.exists(keysDir)) keystore = await Keystore.unlock(keysDir, config.passphrase!);
  else {
    keystore = await Keystore.create(keysDir, config.passphrase!);
    note(`created keystore in ${keysDir}`);
  }
  if (keystore.activeSigningKeyId === null) note(`created signing key ${(await keystore.generateSigningKey()).keyId}`);
  const r = await initTenant(config, keystore, config.tenant);
  if (r.created) note(`created tenant ${r.tenant} (${r.backend} log)`);
  // Seed 004's first route is semantic search over resources: give the first tenant that schema.
  const meta = await readTenantMeta(config.dataDir, config.tenant);
  if (meta !== null && meta.shredded_at === undefined) {
    const t = await Tenant.open(config, config.tenant, { keystore, write: true });
    try {
      if (t.store.schemaSpec("resources") === undefined) {
        await registerSchema(t, fromTemplate(findTemplate("resources")!, "resources"));
        note("registered schema resources (template resources)");
      }
    } finally {
      await t.close();
    }
  }
  return keystore;
}

function printBanner(config: RemConfig, url: string, adminToken: string | null, host: string, replica: boolean): void {
  // One write: a reader of stderr (a supervisor, a test) sees the banner whole.
  const lines: string[] = [];
  const out = { write: (t: string) => void lines.push(t) };
  const token = adminToken ?? "$REM_TOKEN";
  const tenant = config.tenant;
  out.write(`\nREM serving ${url}  (${backendKind(config) === "file" ? "embedded log" : `NATS JetStream ${config.natsUrl}`}, data ${config.dataDir})\n`);
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") out.write("  bound beyond loopback: put TLS in front of it\n");
  out.write(`  OpenAPI:  ${url}/docs/json\n`);
  out.write(`  health:   ${url}/health   ready: ${url}/ready\n`);
  if (adminToken !== null) {
    out.write(`\n  admin token (shown once, stored hashed):\n    ${adminToken}\n`);
  } else {
    out.write(`\n  tokens: the admin token was printed on the first start (or set REM_ADMIN_TOKEN).\n`);
    out.write(`  a token for one tenant: rem token create --tenant ${tenant} [--read-only]; then export REM_TOKEN=<it>\n`);
  }
  if (replica) {
    out.write(`\n  read replica: tenants follow their JetStream streams live; writes are refused (409 REM_ERR_READ_ONLY)\n`);
    out.write(`    curl -s '${url}/api/v1/resources?query=agent%20memory' -H 'Authorization: Bearer ${token}' -H 'X-Tenant-ID: ${tenant}'\n\n`);
    process.stderr.write(lines.join(""));
    return;
  }
  out.write(`\n  try it:\n`);
  out.write(
    `    curl -s -X POST ${url}/api/v1/entities/resources -H 'Authorization: Bearer ${token}' -H 'X-Tenant-ID: ${tenant}' ` +
      `-H 'Content-Type: application/json' -d '{"name": "hello", "content": "REM keeps an agent memory as an event log"}'\n`,
  );
  out.write(`    curl -s '${url}/api/v1/resources?query=agent%20memory' -H 'Authorization: Bearer ${token}' -H 'X-Tenant-ID: ${tenant}'\n\n`);
  process.stderr.write(lines.join(""));
}
