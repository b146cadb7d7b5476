import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A nats-server with JetStream, started for a test. */
export interface NatsServerHandle {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The JetStream store directory; it survives stop/kill/restart. */
  readonly storeDir: string;
  /** The running server's process id; null while it is stopped. */
  readonly pid: number | null;
  /** SIGTERM, then wait for the process to exit. No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL (no clean shutdown), then wait for the process to exit. No-op when not running. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and store dir; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops the server if running and removes the store dir if this helper created it. */
  cleanup(): Promise<void>;
}

export interface StartNatsServerOptions {
  /** Use this store dir (kept on cleanup) instead of a fresh temp dir (removed on cleanup). */
  readonly storeDir?: string;
  /** Listen on this port instead of a free one. */
  readonly port?: number;
}

const READY_TIMEOUT_MS = 10_000;
const STDERR_KEEP = 16 * 1024;

/** NATS_SERVER_BIN, else the Debian package's binary, else `nats-server` on PATH. */
export function natsServerBinary(): string {
  const fromEnv = process.env["NATS_SERVER_BIN"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (existsSync("/usr/sbin/nats-server")) return "/usr/sbin/nats-server";
  return "nats-server";
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error("could not determine a free port"))));
    });
  });
}

/** Starts `nats-server -js` on 127.0.0.1 and resolves once it accepts TCP connections. */
export async function startNatsServer(opts: StartNatsServerOptions = {}): Promise<NatsServerHandle> {
  const ownsDir = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), "rem-nats-")));
  const port = opts.port ?? (await freePort());
  const bin = natsServerBinary();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = "";

  const launch = async (): Promise<void> => {
    stderr = "";
    const proc = spawn(bin, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP); // keep the tail for error messages
    });
    // A failed spawn (ENOENT) emits "error", and "exit" may never follow.
    const failed: { error: Error | null } = { error: null };
    proc.once("error", (err) => {
      failed.error = err;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (failed.error !== null) {
        child = null;
        throw new Error(`cannot start ${bin}: ${failed.error.message}`);
      }
      if (proc.exitCode !== null || proc.signalCode !== null) {
        child = null;
        throw new Error(`nats-server exited (${proc.exitCode ?? proc.signalCode}) before accepting connections on port ${port}:\n${stderr}`);
      }
      if (await canConnect(port)) return;
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        await exited;
        child = null;
        throw new Error(`nats-server did not accept connections on port ${port} within ${READY_TIMEOUT_MS} ms:\n${stderr}`);
      }
      await sleep(25);
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === null) return;
    child = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid(): number | null {
      return (child as ChildProcess | null)?.pid ?? null;
    },
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    restart: async () => {
      await signal("SIGTERM");
      await launch();
    },
    cleanup: async () => {
      await signal("SIGTERM");
      if (ownsDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => {
      sock.destroy();
      resolve(false);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
