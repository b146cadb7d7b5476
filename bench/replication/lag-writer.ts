import { parentPort, workerData } from "node:worker_threads";
import type { Seq } from "../../events/model/ids.js";
import { primaryNode } from "../../test/replica/replica-fixture.js";
import { hrtimeMs } from "../lib/timing.js";
import { paced } from "./pace.js";
import { noteEvent } from "./workload.js";

/**
 * The lag benchmark's primary, in a worker thread: a node of its own, as in a
 * deployment, so its appends (signing, hashing) do not run on the replica's
 * event loop. Driven by messages from lag.ts; times are `hrtimeMs()`
 * (bench/lib/timing.ts), the process's monotonic clock, which both threads share.
 */

export interface LagWriterInput {
  readonly natsUrl: string;
  readonly name: string;
  readonly rate: number;
}

/** From lag.ts: run a paced phase of `seconds` with notes numbered from `from`, or close. */
export type LagWriterCommand = { readonly op: "run"; readonly seconds: number; readonly from: number } | { readonly op: "close" };

export type LagWriterReply =
  | { readonly op: "ready"; readonly publicKey: Uint8Array }
  | {
      readonly op: "ran";
      /** [seq, ms at the append call] per commit. */
      readonly sent: [number, number][];
      readonly head: number;
      readonly issued: number;
      readonly seconds: number;
      readonly commitBytes: number;
    }
  | { readonly op: "closed" }
  | { readonly op: "error"; readonly message: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const input = workerData as LagWriterInput;
  const primary = await primaryNode(input.natsUrl, input.name);
  const log = primary.tenant.log;
  const reply = (m: LagWriterReply): void => port.postMessage(m);
  port.on("message", (cmd: LagWriterCommand) => {
    void (async () => {
      try {
        if (cmd.op === "close") {
          await primary.close();
          reply({ op: "closed" });
          return;
        }
        const sent: [number, number][] = [];
        const load = await paced(input.rate, cmd.seconds, async (i) => {
          const t0 = hrtimeMs();
          sent.push([(await log.append([noteEvent(cmd.from + i)])).seq, t0]);
        });
        const head = (await log.head()).seq;
        let commitBytes = 0;
        for await (const batch of log.backend.read(head as Seq, { until: head as Seq })) commitBytes = batch[0]?.bytes.length ?? 0;
        reply({ op: "ran", sent, head, issued: load.issued, seconds: load.seconds, commitBytes });
      } catch (err) {
        reply({ op: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  reply({ op: "ready", publicKey: primary.publicKey });
}

if (parentPort !== null) {
  main().catch((err: unknown) => parentPort!.postMessage({ op: "error", message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies LagWriterReply));
}
