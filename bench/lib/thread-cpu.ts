import { readFileSync } from "node:fs";

/**
 * CPU time of the main thread so far, in µs, from Linux's /proc (10 ms ticks);
 * null elsewhere. With `process.cpuUsage()` (every thread) it splits a run's
 * CPU into the event loop's and everything else's (LevelDB, GC helpers, the threadpool).
 */
export function mainThreadCpuUs(): number | null {
  return statCpuUs(`/proc/self/task/${process.pid}/stat`);
}

/**
 * CPU time so far of another process (all its threads), in µs, from Linux's
 * /proc; null elsewhere or once it has exited. The benches read their
 * nats-server's with it: on 2 cores the server's CPU competes with REM's.
 */
export function processCpuUs(pid: number): number | null {
  return statCpuUs(`/proc/${pid}/stat`);
}

/** utime + stime of a /proc stat file (fields 14 and 15; the name before ") " may hold spaces). */
function statCpuUs(path: string): number | null {
  try {
    const fields = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}
