import { Cleanup } from "./lib/cleanup.js";
import { progress, toJsonLine } from "./lib/report.js";
import type { Suite } from "./lib/suite.js";

/**
 * `node dist/bench/run.js <suite> [--quick]`: progress on stderr, and as the
 * last stdout line one JSON object with the suite's results.
 *
 * Suites are loaded on demand so one suite's dependencies (PostgreSQL client,
 * NATS…) never slow down or break another.
 */
const SUITES: Record<string, { readonly description: string; load(): Promise<Suite> }> = {
  log: { description: "event log: JetStream and file backends vs raw baselines and Emmett on PostgreSQL", load: async () => (await import("./log/index.js")).logSuite },
  projections: { description: "LevelDB projections: rebuild vs raw LevelDB, get, lookup, indexed SQL, traversal, batch insert", load: async () => (await import("./projections/index.js")).projectionsSuite },
  http: { description: "HTTP server: GET entity vs bare fastify, POST 100-entity batches on JetStream vs fastify + raw JetStream", load: async () => (await import("./http/index.js")).httpSuite },
  export: { description: "Parquet export vs DuckDB's own NDJSON → Parquet COPY of the same rows; rem sql aggregates; an incremental export", load: async () => (await import("./export/index.js")).exportSuite },
  replication: { description: "replication: replica lag at 1k commits/s vs raw JetStream delivery, catch-up vs raw consume, restore from S3 vs raw download", load: async () => (await import("./replication/index.js")).replicationSuite },
  vector: { description: "vector search: REM vs raw hnswlib and LanceDB, recall, filtered search, snapshot open, local embedder", load: async () => (await import("./vector/index.js")).vectorSuite },
};

function usage(): string {
  const names = Object.entries(SUITES)
    .map(([name, s]) => `  ${name.padEnd(12)} ${s.description}`)
    .join("\n");
  return `usage: npm run bench -- <suite> [--quick]\n\nsuites:\n${names}\n\n  --quick      small workloads, fewer repetitions (about a minute)\n`;
}

async function main(args: readonly string[]): Promise<number> {
  const flags = args.filter((a) => a.startsWith("-"));
  const names = args.filter((a) => !a.startsWith("-"));
  const name = names[0];
  const entry = name === undefined ? undefined : SUITES[name];
  if (names.length !== 1 || entry === undefined || flags.some((f) => f !== "--quick")) {
    process.stderr.write(usage());
    return 2;
  }
  const quick = flags.includes("--quick");
  const mode = quick ? "quick" : "full";
  const cleanup = new Cleanup();
  // Interrupted: still stop servers and remove temp dirs and databases.
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      progress(`${sig}: cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  // A library error nobody can catch (an 'error' event without listener, a stray rejection):
  // still clean up and end with a results line saying what happened.
  let finishing = false;
  const fatal = (err: unknown): void => {
    progress(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    // During cleanup (e.g. a pooled connection dropped with its database) the results stand: let main() print them.
    if (finishing) return;
    void cleanup.run().finally(() => {
      process.stdout.write(`${toJsonLine({ suite: name, mode, error: `uncaught: ${err instanceof Error ? err.message : String(err)}` })}\n`, () => process.exit(1));
    });
  };
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
  // The results must be the last stdout line: anything a library logs goes to stderr instead.
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
  let results: Record<string, unknown>;
  let code = 0;
  const started = Date.now();
  try {
    const suite = await entry.load();
    results = await suite.run({ quick, cleanup });
  } catch (err) {
    progress(`suite ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    results = { suite: name, mode, error: err instanceof Error ? err.message : String(err) };
    code = 1;
  } finally {
    finishing = true;
    progress("cleaning up");
    await cleanup.run();
  }
  results = { ...results, durationS: (Date.now() - started) / 1000 };
  await new Promise<void>((resolve) => process.stdout.write(`${toJsonLine(results)}\n`, () => resolve()));
  return code;
}

// Exit explicitly: a client library's idle timers must not keep a finished run alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
