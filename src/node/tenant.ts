import { mkdir, rename, rm } from "node:fs/promises";
import type { NatsConnection } from "@nats-io/nats-core";
import { layout, type RemConfig } from "../config/config.js";
import type { Keystore } from "../../events/keys/keystore.js";
import type { TenantName } from "../../events/model/ids.js";
import type { TenantLog } from "../../events/log/tenant-log.js";
import { ProjectionRunner, type CatchUpResult } from "../../projections/runner.js";
import { ProjectionStore } from "../../projections/store/store.js";
import type { VectorChange } from "../../projections/store/records.js";
import { VectorIndexSet } from "../../projections/vectors/index-set.js";
import { LOCK_WAIT_MS, openTenantLog } from "./open-log.js";

export interface OpenTenantOptions {
  readonly keystore: Keystore;
  /** Open the log for appending (needs the unlocked keystore). */
  readonly write: boolean;
  /** Catch the projections up with the log on open (default true). */
  readonly sync?: boolean;
  /** A NATS connection shared by many tenants (a server); default: one per tenant. */
  readonly nats?: NatsConnection;
}

/**
 * One tenant on this node: its log, its projection store and the runner that
 * keeps the store caught up. Writes go to the log and are then applied here
 * before returning, so a caller always reads its own writes.
 */
export class Tenant {
  readonly name: TenantName;
  readonly log: TenantLog;
  #store: ProjectionStore;
  #runner: ProjectionRunner;
  readonly #storeDir: string;
  readonly #vectorsDir: string;
  #vectors: Promise<VectorIndexSet> | null = null;
  #loadedVectors: VectorIndexSet | null = null;
  /** Vector changes written while the indexes load, applied once they have. */
  #queued: { changes: readonly VectorChange[]; seq: number }[] = [];
  /** Stopped first on close (a replica's follower). */
  #closeHooks: (() => Promise<void>)[] = [];

  private constructor(name: TenantName, log: TenantLog, store: ProjectionStore, storeDir: string, vectorsDir: string) {
    this.name = name;
    this.log = log;
    this.#store = store;
    this.#storeDir = storeDir;
    this.#vectorsDir = vectorsDir;
    this.#runner = this.#newRunner(store);
  }

  #newRunner(store: ProjectionStore): ProjectionRunner {
    const runner = new ProjectionRunner(store, this.log);
    runner.onVectorChanges = (changes, seq) => {
      if (this.#loadedVectors !== null) this.#loadedVectors.apply(changes, seq);
      else if (this.#vectors !== null) this.#queued.push({ changes, seq });
      // not loaded: the store's change log keeps them for the next load
    };
    return runner;
  }

  /**
   * The tenant's HNSW indexes, loaded on first use (from their snapshot plus the
   * changes since, or built from the stored vectors) and kept up to date after.
   */
  vectors(): Promise<VectorIndexSet> {
    if (this.#vectors === null) {
      const loading = (async () => {
        await mkdir(this.#vectorsDir, { recursive: true });
        const set = await VectorIndexSet.open(this.#store, this.#vectorsDir);
        for (const q of this.#queued.splice(0)) set.apply(q.changes, q.seq);
        this.#loadedVectors = set;
        return set;
      })();
      this.#vectors = loading;
      loading.catch(() => {
        if (this.#vectors === loading) this.#vectors = null;
      });
    }
    return this.#vectors;
  }

  /** The HNSW indexes if they are loaded (background snapshots skip tenants that never searched). */
  get loadedVectors(): VectorIndexSet | null {
    return this.#loadedVectors;
  }

  get store(): ProjectionStore {
    return this.#store;
  }

  get runner(): ProjectionRunner {
    return this.#runner;
  }

  static async open(config: RemConfig, name: TenantName, options: OpenTenantOptions): Promise<Tenant> {
    const log = await openTenantLog(config, name, { keystore: options.keystore, write: options.write, nats: options.nats });
    const storeDir = layout.store(config.dataDir, name);
    const vectorsDir = layout.vectors(config.dataDir, name);
    let store: ProjectionStore;
    try {
      store = await ProjectionStore.open(storeDir, { lockWaitMs: LOCK_WAIT_MS });
    } catch (err) {
      await log.close();
      throw err;
    }
    const tenant = new Tenant(name, log, store, storeDir, vectorsDir);
    if (options.sync ?? true) {
      try {
        await tenant.sync();
      } catch (err) {
        await tenant.close();
        throw err;
      }
    }
    return tenant;
  }

  /**
   * Applies every commit the store has not seen — at least up to `minSeq`. A
   * catch-up already running may have started before the caller's commit landed:
   * then another round runs, so a writer always reads its own writes. On a
   * replica that is following, it waits for the follower to pass `minSeq`.
   */
  async sync(minSeq = 0): Promise<CatchUpResult> {
    // reach: a replica's follower is applying already, so it waits for it to pass minSeq
    // instead of asking the log for its head once more.
    return minSeq > 0 ? this.runner.reach(minSeq) : this.runner.catchUp();
  }

  /**
   * Drops the projections and replays the whole log. The store directory is
   * replaced rather than emptied key by key (much faster), and dropped by a
   * rename first (dropDir): a crash midway leaves no store, or an empty or
   * partial one, that the next open simply catches up — never a half-deleted
   * LevelDB directory, which would not open.
   */
  async rebuild(onProgress?: (seq: number, events: number) => void): Promise<CatchUpResult & { seconds: number }> {
    const started = performance.now();
    await this.#store.close();
    this.#loadedVectors?.close();
    this.#vectors = null;
    this.#loadedVectors = null;
    await dropDir(this.#storeDir);
    await dropDir(this.#vectorsDir);
    this.#store = await ProjectionStore.open(this.#storeDir);
    this.#runner = this.#newRunner(this.#store);
    const r = await this.#runner.catchUp({ onProgress });
    return { ...r, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) };
  }

  /** Registers work to stop before the tenant closes (run in order, first thing in close()). */
  onClose(hook: () => Promise<void>): void {
    this.#closeHooks.push(hook);
  }

  /** Snapshots the HNSW indexes if they changed, then closes the store and the log. */
  async close(): Promise<void> {
    for (const hook of this.#closeHooks.splice(0)) await hook().catch(() => undefined);
    await this.#runner.idle(); // a catch-up a caller stopped waiting for is still writing the store
    try {
      const vectors = this.#loadedVectors;
      vectors?.close();
      if (vectors !== null && vectors.dirty) await vectors.snapshot();
    } finally {
      try {
        await this.store.close();
      } finally {
        await this.log.close();
      }
    }
  }
}

/**
 * Removes a directory so that a crash at any moment leaves it either whole or
 * gone: it is renamed aside (atomic) and then deleted. What an earlier crash
 * left aside is deleted first.
 */
async function dropDir(dir: string): Promise<void> {
  const aside = `${dir}.dropping`;
  await rm(aside, { recursive: true, force: true });
  try {
    await rename(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}
