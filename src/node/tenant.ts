import { rm } from "node:fs/promises";
import { layout, type RemConfig } from "../config/config.js";
import type { Keystore } from "../../events/keys/keystore.js";
import type { TenantName } from "../../events/model/ids.js";
import type { TenantLog } from "../../events/log/tenant-log.js";
import { ProjectionRunner, type CatchUpResult } from "../../projections/runner.js";
import { ProjectionStore } from "../../projections/store/store.js";
import { LOCK_WAIT_MS, openTenantLog } from "./open-log.js";

export interface OpenTenantOptions {
  readonly keystore: Keystore;
  /** Open the log for appending (needs the unlocked keystore). */
  readonly write: boolean;
  /** Catch the projections up with the log on open (default true). */
  readonly sync?: boolean;
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

  private constructor(name: TenantName, log: TenantLog, store: ProjectionStore, storeDir: string) {
    this.name = name;
    this.log = log;
    this.#store = store;
    this.#runner = new ProjectionRunner(store, log);
    this.#storeDir = storeDir;
  }

  get store(): ProjectionStore {
    return this.#store;
  }

  get runner(): ProjectionRunner {
    return this.#runner;
  }

  static async open(config: RemConfig, name: TenantName, options: OpenTenantOptions): Promise<Tenant> {
    const log = await openTenantLog(config, name, { keystore: options.keystore, write: options.write });
    const storeDir = layout.store(config.dataDir, name);
    let store: ProjectionStore;
    try {
      store = await ProjectionStore.open(storeDir, { lockWaitMs: LOCK_WAIT_MS });
    } catch (err) {
      await log.close();
      throw err;
    }
    const tenant = new Tenant(name, log, store, storeDir);
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

  /** Applies every commit the store has not seen. */
  sync(): Promise<CatchUpResult> {
    return this.runner.catchUp();
  }

  /**
   * Drops the projections and replays the whole log. The store directory is
   * replaced rather than emptied key by key (much faster); a crash midway leaves
   * an empty or partial store that the next open simply catches up.
   */
  async rebuild(onProgress?: (seq: number, events: number) => void): Promise<CatchUpResult & { seconds: number }> {
    const started = performance.now();
    await this.#store.close();
    await rm(this.#storeDir, { recursive: true, force: true });
    this.#store = await ProjectionStore.open(this.#storeDir);
    this.#runner = new ProjectionRunner(this.#store, this.log);
    const r = await this.#runner.catchUp({ onProgress });
    return { ...r, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) };
  }

  async close(): Promise<void> {
    try {
      await this.store.close();
    } finally {
      await this.log.close();
    }
  }
}
