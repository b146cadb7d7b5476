import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// The bench holds gigabytes in native objects (hnswlib indexes) whose size V8 does not see,
// so it would not collect them on its own: expose gc() to drop one phase's data before the next.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A full garbage collection; returns the resident set size afterwards (MB). */
export function collect(): number {
  gc();
  gc();
  return rssMb();
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1e6);
}
