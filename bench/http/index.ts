import { writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { startNatsServer } from "../../test/support/nats-server.js";
import { tempDir } from "../../test/support/tmp.js";
import { atLeast, atMost, progress, ratio, round, type Target } from "../lib/report.js";
import type { Suite } from "../lib/suite.js";
import { httpBenchConfig } from "./config.js";
import { load, medianRun, repeat, spawnServer, type ChildServer, type LoadRun } from "./load.js";
import { note, NOTES, prepareDataDir } from "./setup.js";
import { BENCH_ADMIN } from "./shared.js";

const HEADERS = { authorization: `Bearer ${BENCH_ADMIN}`, "x-tenant-id": "bench" };
const JSON_HEADERS = { ...HEADERS, "content-type": "application/json" };

/**
 * `npm run bench -- http [--quick]`: the REM server in one process, autocannon
 * in this one (both on the same 2 cores, as the issue sets it).
 * - GET /api/v1/entities/:id against a bare fastify route answering the same
 *   bytes, in alternating runs;
 * - POST /api/v1/entities/notes with 100 entities per request on JetStream,
 *   against bare fastify publishing the same body to JetStream (and on the
 *   embedded log, for reference). Every 201 means a durable commit.
 */
export const httpSuite: Suite = {
  name: "http",
  description: "HTTP server: GET entity vs bare fastify, POST 100-entity batches on JetStream vs fastify + raw JetStream",
  async run({ quick, cleanup }) {
    const cfg = httpBenchConfig(quick);
    const loadBefore = loadavg()[0]!;
    const tmp = await tempDir("rem-bench-http-");
    cleanup.add("http temp dir", () => tmp.cleanup());
    const nats = await startNatsServer();
    cleanup.add("nats-server", () => nats.cleanup());

    // GET: REM on the embedded log, seeded, against bare fastify with the same bytes.
    const fileDir = join(tmp.path, "file");
    await prepareDataDir(fileDir);
    const remFile = await spawnServer(["rem", fileDir], cleanup);
    await post(remFile, "/api/v1/schemas", NOTES);
    progress(`seeding ${cfg.seed} entities`);
    const ids: string[] = [];
    for (let i = 0; i < cfg.seed; i += 1000) {
      const r = (await post(remFile, "/api/v1/entities/notes", Array.from({ length: Math.min(1000, cfg.seed - i) }, (_, k) => note(i + k)))) as { ids: string[] };
      ids.push(...r.ids);
    }
    const one = await fetch(`${remFile.url}/api/v1/entities/${ids[0]}`, { headers: HEADERS });
    const bytes = Buffer.from(await one.arrayBuffer());
    const bytesFile = join(tmp.path, "entity.json");
    await writeFile(bytesFile, bytes);
    const bare = await spawnServer(["bare-get", bytesFile], cleanup);

    const getOpts = (url: string, paths?: string[]) => ({ url, method: "GET" as const, connections: cfg.getConnections, seconds: cfg.seconds, headers: HEADERS, paths });
    progress("warm-up");
    await load({ ...getOpts(`${remFile.url}/api/v1/entities/${ids[0]}`), seconds: 1 });
    await load({ ...getOpts(`${bare.url}/api/v1/entities/${ids[0]}`), seconds: 1 });
    const remGetRuns: LoadRun[] = [];
    const bareGetRuns: LoadRun[] = [];
    for (let k = 0; k < cfg.reps; k++) {
      progress(`GET entity, run ${k + 1}/${cfg.reps}: bare fastify, then REM`);
      bareGetRuns.push(await load(getOpts(`${bare.url}/api/v1/entities/${ids[0]}`)));
      remGetRuns.push(await load(getOpts(`${remFile.url}/api/v1/entities/${ids[0]}`)));
    }
    progress("GET entity over all seeded ids (REM)");
    const rotating = await repeat(cfg.reps, () => load(getOpts(remFile.url, ids.map((id) => `/api/v1/entities/${id}`))));
    await bare.stop();

    progress("POST 100-entity batches on the embedded log (reference)");
    const postBody = JSON.stringify(Array.from({ length: cfg.batch }, (_, i) => note(i)));
    const postOpts = (url: string) => ({ url, method: "POST" as const, connections: cfg.postConnections, seconds: cfg.seconds, headers: JSON_HEADERS, body: postBody });
    const postFile = await repeat(cfg.reps, () => load(postOpts(`${remFile.url}/api/v1/entities/notes?embed=false`)));
    await remFile.stop();

    // POST on JetStream: REM against bare fastify + raw JetStream publish of the same body.
    const jsDir = join(tmp.path, "js");
    await prepareDataDir(jsDir, nats.url);
    const remJs = await spawnServer(["rem", jsDir, nats.url], cleanup);
    await post(remJs, "/api/v1/schemas", NOTES);
    const rawJs = await spawnServer(["bare-post", nats.url], cleanup);
    await load({ ...postOpts(`${remJs.url}/api/v1/entities/notes`), seconds: 1 });
    await load({ ...postOpts(`${rawJs.url}/api/v1/entities/notes`), seconds: 1 });
    const remPostRuns: LoadRun[] = [];
    const rawPostRuns: LoadRun[] = [];
    for (let k = 0; k < cfg.reps; k++) {
      progress(`POST ${cfg.batch}-entity batches on JetStream, run ${k + 1}/${cfg.reps}: fastify + raw JetStream, then REM`);
      rawPostRuns.push(await load(postOpts(`${rawJs.url}/api/v1/entities/notes`)));
      remPostRuns.push(await load(postOpts(`${remJs.url}/api/v1/entities/notes`)));
    }
    // Every 201 was a durable commit of `batch` entities: the projections agree.
    const count = ((await post(remJs, "/api/v1/query", { sql: "SELECT COUNT(*) FROM notes" })) as { count: number }).count;
    const acked = remPostRuns.reduce((s, r) => s + (r.total - r.non2xx), 0) * cfg.batch;
    await rawJs.stop();
    await remJs.stop();

    const med = medianRun;
    const remGet = med(remGetRuns);
    const bareGet = med(bareGetRuns);
    const remPost = med(remPostRuns);
    const rawPost = med(rawPostRuns);
    const entitiesPerS = (r: LoadRun) => (r.reqPerS * (r.total - r.non2xx) * cfg.batch) / Math.max(1, r.total);
    const targets: Record<string, Target> = {
      "getEntity.reqPerS": atLeast(remGet.reqPerS, 10_000, "req/s"),
      "getEntity.p50Ms": atMost(remGet.p50Ms, 2, "ms"),
      "getEntity.p99Ms": atMost(remGet.p99Ms, 10, "ms"),
      "getEntity.vsBareFastify": atLeast(ratio(remGet.reqPerS, bareGet.reqPerS), 0.6, "x"),
      "postBatch100.jetstream.entitiesPerS": atLeast(entitiesPerS(remPost), 20_000, "entities/s"),
      "postBatch100.everyAckedEntityStored": { value: count >= acked ? 1 : 0, target: 1, pass: count >= acked, unit: "bool" },
    };
    const failed = Object.entries(targets).filter(([, t]) => !t.pass);
    progress(`targets: ${Object.keys(targets).length - failed.length}/${Object.keys(targets).length} met${failed.length > 0 ? `; missed: ${failed.map(([k]) => k).join(", ")}` : ""}`);
    return {
      suite: "http",
      mode: cfg.mode,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAvg1mBefore: loadBefore, loadAvg1mAfter: loadavg()[0] },
      config: cfg,
      targets,
      allTargetsMet: failed.length === 0,
      getEntity: { rem: remGet, bareFastify: bareGet, ratio: ratio(remGet.reqPerS, bareGet.reqPerS), bytes: bytes.length, runs: { rem: remGetRuns, bare: bareGetRuns } },
      getEntityRotatingIds: { rem: rotating.median, ids: ids.length },
      postBatch100: {
        jetstream: { rem: remPost, entitiesPerS: round(entitiesPerS(remPost)), fastifyRawJetStream: rawPost, rawEntitiesPerS: round(entitiesPerS(rawPost)), ratio: ratio(remPost.reqPerS, rawPost.reqPerS), runs: { rem: remPostRuns, raw: rawPostRuns } },
        file: { rem: postFile.median, entitiesPerS: round(entitiesPerS(postFile.median)) },
        storedEntities: count,
        ackedEntities: acked,
      },
    };
  },
};

async function post(s: ChildServer, path: string, body: unknown): Promise<unknown> {
  const r = await fetch(s.url + path, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
  const json = (await r.json()) as unknown;
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}
