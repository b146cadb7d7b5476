/**
 * A server for the HTTP benchmark, in its own process (the load generator is
 * the parent). Prints one JSON line `{"url": …}` on stdout once listening and
 * stops on SIGTERM.
 *
 *   rem <dataDir> [natsUrl]     the REM server (no rate limit, no logging)
 *   bare-get <bytesFile>        bare fastify: GET /api/v1/entities/:id answers the file's bytes
 *   bare-post <natsUrl>         bare fastify: POST /api/v1/entities/:schema publishes the parsed
 *                               body to a JetStream stream and answers 201 after the ack
 */
import { readFile } from "node:fs/promises";
import Fastify from "fastify";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { resolveConfig } from "../../src/config/config.js";
import { Keystore } from "../../events/keys/keystore.js";
import { connectNats } from "../../events/log/jetstream/connect.js";
import { startServer } from "../../src/server/server.js";
import { BENCH_ADMIN, BENCH_PASSPHRASE } from "./shared.js";

async function main(args: string[]): Promise<() => Promise<void>> {
  const [mode, arg, nats] = args;
  if (mode === "rem") {
    const config = resolveConfig({ data: arg, nats }, {});
    const keystore = await Keystore.unlock(`${arg}/keys`, BENCH_PASSPHRASE);
    const s = await startServer({ config, keystore, port: 0, logLevel: false, adminToken: BENCH_ADMIN, rateLimitPerSecond: 0 });
    report(s.url);
    return () => s.close();
  }
  const app = Fastify({ logger: false });
  if (mode === "bare-get") {
    const bytes = await readFile(arg!);
    app.get("/api/v1/entities/:id", async (_req, reply) => reply.type("application/json; charset=utf-8").send(bytes));
    await app.listen({ host: "127.0.0.1", port: 0 });
    report(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
    return () => app.close();
  }
  if (mode === "bare-post") {
    const nc = await connectNats(arg!);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "BENCH_RAW_HTTP", subjects: ["rawhttp.>"] }).catch(() => undefined);
    await jsm.streams.purge("BENCH_RAW_HTTP");
    const js = jetstream(nc);
    app.post("/api/v1/entities/:schema", async (req, reply) => {
      const ack = await js.publish("rawhttp.commit", JSON.stringify(req.body));
      return reply.status(201).send({ seq: ack.seq });
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    report(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
    return async () => {
      await app.close();
      await jsm.streams.delete("BENCH_RAW_HTTP").catch(() => undefined);
      await nc.close();
    };
  }
  throw new Error(`unknown mode ${String(mode)}`);
}

function report(url: string): void {
  process.stdout.write(`${JSON.stringify({ url })}\n`);
}

main(process.argv.slice(2)).then(
  (stop) => {
    process.once("SIGTERM", () => void stop().finally(() => process.exit(0)));
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
