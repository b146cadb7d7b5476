import { rm } from "node:fs/promises";
import { join } from "node:path";
import { resolveConfig, type RemConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { tenantName } from "../../events/model/ids.js";
import { initTenant } from "../../src/node/init-tenant.js";
import { startServer, type RemServer, type ServerOptions } from "../../src/server/server.js";
import { tempDir } from "./tmp.js";

export const ADMIN = "rem_test_admin_token_0123456789abcdef";

export interface ServerFixture {
  readonly server: RemServer;
  readonly url: string;
  readonly dir: string;
  readonly config: RemConfig;
  readonly keystore: Keystore;
  /** fetch against the server: JSON body, bearer token (default admin) and tenant header filled in. */
  call(method: string, path: string, o?: CallOptions): Promise<Reply>;
  /** Stops the server (idempotent) and removes the data dir. */
  close(): Promise<void>;
}

export interface CallOptions {
  readonly token?: string | null;
  readonly tenant?: string | null;
  readonly body?: unknown;
  /** Sent as is (no JSON encoding). */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  // Test code reads whatever the route returns.
  readonly json: any;
  readonly text: string;
}

export interface ServerFixtureOptions extends Partial<Omit<ServerOptions, "config" | "keystore">> {
  /** Tenants created before the server starts (default ["acme"]). */
  readonly tenants?: readonly string[];
  readonly natsUrl?: string;
}

/** A REM server on a free loopback port over a fresh data dir, with an admin token known to the test. */
export async function serverFixture(o: ServerFixtureOptions = {}): Promise<ServerFixture> {
  const tmp = await tempDir("rem-server-");
  const keystore = await Keystore.create(join(tmp.path, "keys"), "fixture passphrase", { logN: 10 });
  await keystore.generateSigningKey();
  const config = resolveConfig({ data: tmp.path, nats: o.natsUrl }, {});
  for (const t of o.tenants ?? ["acme"]) await initTenant(config, keystore, tenantName(t));
  return start(tmp, config, keystore, o);
}

/** A new server over a stopped fixture's data dir (a restart); closing it removes the dir. */
export async function reopenServer(fx: ServerFixture, o: ServerFixtureOptions = {}): Promise<ServerFixture> {
  await fx.server.close();
  return start({ path: fx.dir, cleanup: () => rm(fx.dir, { recursive: true, force: true }) }, fx.config, fx.keystore, o);
}

async function start(tmp: { path: string; cleanup(): Promise<void> }, config: RemConfig, keystore: Keystore, o: ServerFixtureOptions): Promise<ServerFixture> {
  const server = await startServer({ port: 0, logLevel: false, adminToken: ADMIN, background: { intervalMs: 100 }, ...o, config, keystore });
  return {
    server,
    url: server.url,
    dir: tmp.path,
    config,
    keystore,
    call: (method, path, c = {}) => call(server.url, method, path, c),
    async close() {
      await server.close();
      await tmp.cleanup();
    },
  };
}

export async function call(url: string, method: string, path: string, c: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...c.headers };
  const token = c.token === undefined ? ADMIN : c.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const tenant = c.tenant === undefined ? "acme" : c.tenant;
  if (tenant !== null) headers["x-tenant-id"] = tenant;
  let body: string | Buffer | undefined;
  if (c.raw !== undefined) body = c.raw;
  else if (c.body !== undefined) {
    body = JSON.stringify(c.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(url + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, contentType: res.headers.get("content-type") ?? "", json, text };
}
