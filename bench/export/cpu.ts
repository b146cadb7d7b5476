import { readFileSync } from "node:fs";

/**
 * CPU seconds used so far: by the whole process (every thread: DuckDB's and
 * LevelDB's included) and by the JavaScript thread alone (Linux only, else
 * null). Reported next to wall times because the bench machine is shared:
 * wall times move with other jobs' load, CPU time much less.
 */
export interface CpuSample {
  readonly process: number;
  readonly main: number | null;
}

export function cpuNow(): CpuSample {
  const u = process.cpuUsage();
  return { process: (u.user + u.system) / 1e6, main: mainThreadCpu() };
}

/** CPU seconds between two samples. */
export function cpuSince(from: CpuSample): CpuSample {
  const now = cpuNow();
  return { process: now.process - from.process, main: now.main === null || from.main === null ? null : now.main - from.main };
}

/** utime + stime of the main thread (its task id is the pid), from /proc. */
function mainThreadCpu(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks: 100 per second on Linux
  } catch {
    return null;
  }
}
