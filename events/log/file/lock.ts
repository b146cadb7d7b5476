import { hostname } from "node:os";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RemError } from "../../../src/errors.js";

/**
 * An exclusive lock on a log directory, held by one process at a time: the
 * embedded log has one writer. The lock file holds `pid@host`; a lock left by a
 * process that is gone (same host, pid not running) is taken over.
 */
export class DirLock {
  private constructor(readonly path: string) {}

  /** Takes the lock, waiting up to `waitMs` for a live holder to let go. */
  static async acquire(dir: string, what: string, waitMs = 0): Promise<DirLock> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        return await DirLock.#tryAcquire(dir, what);
      } catch (err) {
        if (!(err instanceof RemError) || err.code !== "REM_ERR_LOG_LOCKED" || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  static async #tryAcquire(dir: string, what: string): Promise<DirLock> {
    const path = join(dir, "LOCK");
    const me = `${process.pid}@${hostname()}`;
    const tmp = join(dir, `.LOCK.${process.pid}.${Date.now()}`);
    await writeFile(tmp, me);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(tmp, path); // atomic: fails if LOCK exists
          return new DirLock(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
        const holder = (await readFile(path, "utf8").catch(() => "")).trim();
        if (holder !== "" && !isStale(holder)) {
          throw new RemError("REM_ERR_LOG_LOCKED", `${what} is in use by process ${holder}; stop it or point --data elsewhere`, { path, holder });
        }
        await unlink(path).catch(() => undefined);
      }
      throw new RemError("REM_ERR_LOG_LOCKED", `${what}: could not take the lock at ${path}`, { path });
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}

function isStale(holder: string): boolean {
  const [pidText, host] = holder.split("@");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false; // cannot tell: assume held
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
