import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Durable, atomic file publication for the export directory: a file appears
 * under its final name complete and fsynced, or not at all. Readers only ever
 * open names listed in the manifest, which is itself replaced atomically after
 * the files it names are durable.
 */

async function fsyncPath(path: string, flags: "r" | "r+"): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory, so a rename in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  await fsyncPath(dir, "r");
}

/** Moves a finished temp file to its final name (fsync file, rename, fsync directory); returns its size. */
export async function publishFile(tmp: string, final: string): Promise<number> {
  await fsyncPath(tmp, "r+");
  await mkdir(dirname(final), { recursive: true });
  await rename(tmp, final);
  await fsyncDir(dirname(final));
  return (await stat(final)).size;
}

/** Replaces `path` with `text` atomically (temp file in the same directory, fsync, rename, fsync directory). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${randomUUID()}.tmp`);
  try {
    await writeFile(tmp, text, { flush: true });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}
