import { JetStreamLog } from "../../events/log/jetstream/jetstream-log.js";
import { describeLogContract } from "../contract/log-contract.js";
import { useNatsServer } from "../support/nats-fixture.js";

const nats = useNatsServer();

describeLogContract({
  name: "NATS JetStream",
  async setup() {},
  async teardown() {},
  open(tenant) {
    return JetStreamLog.open({ nc: nats.nc, tenant, create: true });
  },
});
