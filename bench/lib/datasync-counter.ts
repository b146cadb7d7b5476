import { open, type FileHandle } from "node:fs/promises";
import { fileURLToPath } from "node:url";

type Datasync = (this: FileHandle) => Promise<void>;

/**
 * Counts FileHandle.datasync() calls made while `fn` runs, by wrapping the
 * method on FileHandle's prototype (restored afterwards). A measuring aid: it
 * tells how many group commits the file log made, hence their average size,
 * which the raw write baseline then reproduces. The wrapper adds one increment
 * per call, nothing measurable next to an fdatasync.
 */
export async function countDatasyncs<T>(fn: () => Promise<T>): Promise<{ result: T; datasyncs: number }> {
  // FileHandle is not exported as a class: reach its prototype through any open handle.
  const probe = await open(fileURLToPath(import.meta.url), "r");
  const proto = Object.getPrototypeOf(probe) as { datasync: Datasync };
  await probe.close();
  const original = proto.datasync;
  let datasyncs = 0;
  proto.datasync = function (this: FileHandle) {
    datasyncs++;
    return original.call(this);
  };
  try {
    const result = await fn();
    return { result, datasyncs };
  } finally {
    proto.datasync = original;
  }
}
