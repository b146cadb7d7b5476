import { readFileSync } from "node:fs";

/**
 * CPU time of the main thread so far, in µs, from Linux's /proc (10 ms ticks);
 * null elsewhere. With `process.cpuUsage()` (every thread) it splits a run's
 * CPU into the event loop's and everything else's (LevelDB, GC helpers, the threadpool).
 */
export function mainThreadCpuUs(): number | null {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}
