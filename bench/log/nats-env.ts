import { jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connectNats } from "../../events/log/jetstream/connect.js";
import { startNatsServer } from "../../test/support/nats-server.js";
import type { Cleanup } from "../lib/cleanup.js";
import { setDiagnosticsPeer } from "../lib/diagnostics.js";
import { progress } from "../lib/report.js";

export interface NatsEnv {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Streams this run created; all are deleted at cleanup (before the server and its store go). */
  readonly streams: Set<string>;
  readonly serverVersion: string;
}

/**
 * A private nats-server (free port, temp store dir), never the system one on
 * 4222, and one connection shared by every measurement, as a REM node would.
 */
export async function startNatsEnv(cleanup: Cleanup): Promise<NatsEnv> {
  const server = await startNatsServer();
  cleanup.add("nats-server", () => server.cleanup());
  // Every measurement of the run also reports this server's CPU: on 2 cores it competes with REM's.
  setDiagnosticsPeer(() => server.pid);
  cleanup.add("diagnostics peer", () => setDiagnosticsPeer(null));
  progress(`nats-server listening on ${server.url} (store ${server.storeDir})`);
  const nc = await connectNats(server.url);
  const streams = new Set<string>();
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  cleanup.add("nats connection and streams", async () => {
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });
  return { url: server.url, nc, js: jsm.jetstream(), jsm, streams, serverVersion: nc.info?.version ?? "unknown" };
}
