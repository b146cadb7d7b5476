import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import type { Cleanup } from "../lib/cleanup.js";
import { median } from "../lib/stats.js";

const CHILD = fileURLToPath(new URL("./server-child.js", import.meta.url));

/** A benchmark server in its own process. */
export interface ChildServer {
  readonly url: string;
  stop(): Promise<void>;
}

/** Spawns `server-child.js <args>` and waits for its `{"url"}` line. */
export function spawnServer(args: string[], cleanup: Cleanup, env: Record<string, string> = {}): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const stop = cleanup.add(`server ${args[0]}`, async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line !== undefined) resolve({ url: (JSON.parse(line) as { url: string }).url, stop });
    });
    child.once("exit", (code) => reject(new Error(`server ${args[0]} exited ${code} before listening`)));
  });
}

export interface LoadOptions {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly connections: number;
  readonly seconds: number;
  readonly headers: Record<string, string>;
  /** A fixed body, or none. */
  readonly body?: string;
  /** Paths to cycle through (default: the URL's own). */
  readonly paths?: readonly string[];
}

/** One autocannon run's figures. */
export interface LoadRun {
  readonly reqPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
}

export async function load(o: LoadOptions): Promise<LoadRun> {
  let i = 0;
  const paths = o.paths;
  const r = await autocannon({
    url: o.url,
    method: o.method,
    connections: o.connections,
    duration: o.seconds,
    headers: o.headers,
    body: o.body,
    ...(paths === undefined ? {} : { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: paths[i++ % paths.length]! }) }] }),
  });
  return { reqPerS: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total };
}

/** The median of each figure over runs. */
export function medianRun(runs: readonly LoadRun[]): LoadRun {
  const m = (f: (r: LoadRun) => number) => median(runs.map(f));
  return { reqPerS: m((r) => r.reqPerS), p50Ms: m((r) => r.p50Ms), p99Ms: m((r) => r.p99Ms), non2xx: m((r) => r.non2xx), errors: m((r) => r.errors), total: m((r) => r.total) };
}

/** Repeats a run; the median of each figure, and every run. */
export async function repeat(reps: number, fn: () => Promise<LoadRun>): Promise<{ median: LoadRun; runs: LoadRun[] }> {
  const runs: LoadRun[] = [];
  for (let k = 0; k < reps; k++) runs.push(await fn());
  return { median: medianRun(runs), runs };
}
