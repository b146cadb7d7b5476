import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Event as RemEvent } from "../../events/model/events.js";
import type { Cleanup } from "../lib/cleanup.js";
import { progress } from "../lib/report.js";
import { nowMs, type Rate, type RunSample } from "../lib/timing.js";
import type { LogBenchConfig } from "./config.js";
import { interleaved } from "./interleave.js";
import type { Workload } from "./workload.js";

export interface EmmettResults {
  readonly emmettVersion: string;
  readonly postgres: string;
  /** Appends of 100 events, `appendStreams` appenders at once, each on its own stream. */
  readonly append: Rate;
  readonly appendStreams: number;
  readonly read: {
    /** `readMessagesBatch` in a loop (global order, `readBatchSize` per query): the fastest in-order read Emmett's API offers. */
    readonly readMessagesBatch: Rate;
    /** The global-order consumer with a reactor (`consumerPullBatch` per pull, 50 ms pulling interval), over `consumerEvents` events. */
    readonly consumer: Rate;
  };
  readonly readBatchSize: number;
  /**
   * Messages readMessagesBatch returned in the last repetition, of `expected`. Paging by
   * global position while ordering by transaction id skips and repeats events written by
   * concurrent appenders (Emmett 0.42), so this can differ from the events stored.
   */
  readonly readMessagesBatchDelivered: { readonly expected: number; readonly read: number };
  readonly consumerPullBatch: number;
  readonly consumerEvents: number;
}

export type EmmettOutcome = EmmettResults | { readonly error: string };

/** Where PostgreSQL runs (trust auth); REM_BENCH_PG_URL overrides. The bench creates and drops its own database. */
const SERVER_URL = process.env["REM_BENCH_PG_URL"] ?? "postgresql://postgres@127.0.0.1:5432";
const DATABASE = "rem_bench";
/**
 * Every readMessagesBatch query scans and sorts the whole messages table (0.42
 * has no index on global_position), so bigger batches read faster: 50,000 is
 * about REM's own read batch (512 commits of 100 events).
 */
const READ_BATCH = 50_000;
/** The consumer's default pull is 100 messages; 1,000 reads ~5x faster here (it checkpoints every message either way). */
const CONSUMER_PULL_BATCH = 1000;

/**
 * Figure 7: Emmett 0.42 on PostgreSQL, the peer, with the same events. Never
 * throws: if PostgreSQL or Emmett cannot run, the reason is returned instead.
 */
export async function emmettBench(cfg: LogBenchConfig, work: Workload, cleanup: Cleanup): Promise<EmmettOutcome> {
  try {
    return await run(cfg, work, cleanup);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    progress(`emmett: ${error}`);
    return { error };
  }
}

async function run(cfg: LogBenchConfig, work: Workload, cleanup: Cleanup): Promise<EmmettResults> {
  // Loaded here so a missing driver becomes a reported error, not a crash of the whole suite.
  const { default: pg } = await import("pg");
  const emmett = await import("@event-driven-io/emmett-postgresql");
  const { dumbo, endAllPools, getPool } = await import("@event-driven-io/dumbo");
  const emmettVersion = await packageVersion("@event-driven-io/emmett-postgresql");

  const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres`, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  const dropDatabase = async (): Promise<void> => {
    // FORCE (PostgreSQL 13+) also ends connections a crashed run may have left behind.
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  };
  cleanup.add("postgres admin connection", () => admin.end());
  const postgres = ((await admin.query("SELECT current_setting('server_version') AS v")).rows[0] as { v: string }).v;
  await dropDatabase();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  cleanup.add(`database ${DATABASE}`, async () => {
    await endAllPools();
    await dropDatabase();
  });

  const url = `${SERVER_URL}/${DATABASE}`;
  const store = emmett.getPostgreSQLEventStore(url);
  cleanup.add("emmett event store", () => store.close());
  // Emmett's pools (one shared pg.Pool per connection string) have no 'error' listener: an idle
  // connection ended by the server (DROP DATABASE … FORCE at cleanup) would crash the process.
  getPool(url).on("error", (err: Error) => progress(`emmett pool: ${err.message}`));
  await store.schema.migrate();
  progress(`emmett ${emmettVersion} on PostgreSQL ${postgres}: schema ready`);

  // Same events: Emmett's shape is { type, data }, data = the rest of REM's event.
  const batches = work.batches.map((b) => b.map(toEmmett));

  const append = async (rep: number): Promise<RunSample> => {
    // Every repetition starts from an empty store (as REM's start from fresh streams); the last one's events are read below.
    await store.schema.dangerous.truncate({ resetSequences: true });
    const streams = cfg.emmettStreams;
    let events = 0;
    const t0 = nowMs();
    await Promise.all(
      Array.from({ length: streams }, async (_, w) => {
        // One appender per stream, appending its share in order (appends to one stream serialise anyway).
        for (let i = w; i < batches.length; i += streams) {
          await store.appendToStream(`entity-r${rep}w${w}`, batches[i]!);
          events += batches[i]!.length;
        }
      }),
    );
    return { items: events, ms: nowMs() - t0 };
  };
  const appendRates = await interleaved("emmett append", cfg.reps, { append });

  // The store now holds exactly the events of the last append repetition: read them all, in global order.
  const pool = dumbo({ connectionString: url });
  cleanup.add("emmett read pool", () => pool.close());
  let delivered = 0;
  const readBatches = async (): Promise<RunSample> => {
    let after = 0n;
    let events = 0;
    const t0 = nowMs();
    const batchSize = Math.min(READ_BATCH, work.events);
    // Until Emmett says nothing is left (not until a count: its paging may skip or repeat events, see above).
    for (;;) {
      const r = await emmett.readMessagesBatch(pool.execute, { after, batchSize });
      events += r.messages.length;
      after = r.currentGlobalPosition;
      if (r.messages.length === 0 || !r.areMessagesLeft) break;
    }
    const ms = nowMs() - t0;
    delivered = events;
    if (events === 0) throw new Error("readMessagesBatch returned no events");
    return { items: events, ms };
  };

  const consumerEvents = Math.min(cfg.emmettConsumerEvents, work.events);
  const consume = async (rep: number): Promise<RunSample> => {
    const consumer = emmett.postgreSQLEventStoreConsumer({ connectionString: url, pulling: { batchSize: CONSUMER_PULL_BATCH } });
    let events = 0;
    // A fresh processor id per repetition: otherwise it resumes from its stored checkpoint.
    consumer.reactor({
      processorId: `rem-bench-${rep}-${Date.now()}`,
      eachMessage: async () => {
        events++;
      },
      stopAfter: () => events >= consumerEvents,
    });
    const t0 = nowMs();
    try {
      await consumer.start();
      const ms = nowMs() - t0;
      if (events < consumerEvents) throw new Error(`the consumer stopped after ${events} of ${consumerEvents} events`);
      return { items: events, ms };
    } finally {
      await consumer.close();
    }
  };
  const read = await interleaved("emmett read", cfg.reps, { readMessagesBatch: readBatches, consumer: consume });

  return {
    emmettVersion,
    postgres,
    append: appendRates.append,
    appendStreams: cfg.emmettStreams,
    read,
    readBatchSize: Math.min(READ_BATCH, work.events),
    readMessagesBatchDelivered: { expected: work.events, read: delivered },
    consumerPullBatch: CONSUMER_PULL_BATCH,
    consumerEvents,
  };
}

function toEmmett(e: RemEvent): { type: string; data: Record<string, unknown> } {
  const { type, ...data } = e;
  return { type, data };
}

/** The installed version of a package whose exports hide package.json: found next to its resolved entry point. */
async function packageVersion(name: string): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version !== undefined) return pkg.version;
    } catch {
      // not here: look one level up
    }
  }
  return "unknown";
}
