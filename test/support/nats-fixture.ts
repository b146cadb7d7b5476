import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll } from "vitest";
import { connectNats } from "../../events/log/jetstream/connect.js";
import { startNatsServer, type NatsServerHandle } from "./nats-server.js";

/**
 * A private nats-server and a connection to it for the enclosing test file (or
 * describe block): started in beforeAll, stopped and removed in afterAll. Read
 * `server` and `nc` inside tests and hooks, not at collection time.
 */
export function useNatsServer(): { readonly server: NatsServerHandle; readonly nc: NatsConnection } {
  let server: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats(server.url);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });
  return {
    get server() {
      if (server === undefined) throw new Error("the nats-server starts in beforeAll");
      return server;
    },
    get nc() {
      if (nc === undefined) throw new Error("the nats connection opens in beforeAll");
      return nc;
    },
  };
}
