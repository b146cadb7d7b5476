import type { NatsConnection } from "@nats-io/nats-core";
import { connectNats } from "../../events/log/jetstream/connect.js";
import { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import { describeLogContract } from "../contract/log-contract.js";
import { startNatsServer, type NatsServerHandle } from "../support/nats-server.js";

let server: NatsServerHandle;
let nc: NatsConnection;

describeLogContract({
  name: "NATS JetStream",
  async setup() {
    server = await startNatsServer();
    nc = await connectNats(server.url);
  },
  async teardown() {
    await nc.close();
    await server.cleanup();
  },
  open(tenant) {
    return JetStreamLog.open({ nc, tenant, create: true });
  },
});
