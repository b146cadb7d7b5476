import { RemError } from "../errors.js";
import type { RemConfig } from "../config/config.js";
import type { Keystore } from "../../events/keys/keystore.js";
import type { TenantName } from "../../events/model/ids.js";
import type { NatsConnection } from "@nats-io/nats-core";
import { Tenant } from "./tenant.js";

export interface TenantPoolOptions {
  readonly keystore: Keystore;
  /** Open tenants for appending. */
  readonly write: boolean;
  /** Most tenants kept open when idle (default 64); tenants in use are never closed. */
  readonly maxOpen?: number;
  /** One NATS connection for every tenant's JetStream log (default: one each). */
  readonly nats?: NatsConnection;
  /** Runs before a tenant opens (a replica creates its local record of a tenant it follows). */
  readonly beforeOpen?: (name: TenantName) => Promise<void>;
  /** Called when a tenant has opened (a server starts its background work). */
  readonly onOpen?: (tenant: Tenant) => void;
}

interface Entry {
  readonly opening: Promise<Tenant>;
  tenant: Tenant | null;
  users: number;
  closing: Promise<void> | null;
}

/**
 * Tenants open lazily on first use and stay open while hot: an LRU closes the
 * least recently used idle tenant once more than `maxOpen` are open. Concurrent
 * uses of one tenant share one open handle.
 */
export class TenantPool {
  readonly #config: RemConfig;
  readonly #o: TenantPoolOptions;
  /** Insertion order is recency order: a use moves the entry to the end. */
  readonly #entries = new Map<TenantName, Entry>();
  /** The most recently used entry (the Map's last), to skip re-inserting it. */
  #last: Entry | null = null;
  #closed = false;

  constructor(config: RemConfig, options: TenantPoolOptions) {
    this.#config = config;
    this.#o = options;
  }

  /** Names of the tenants open now, least recently used first. */
  get open(): TenantName[] {
    return [...this.#entries.entries()].filter(([, e]) => e.tenant !== null && e.closing === null).map(([n]) => n);
  }

  /** Runs `fn` with the tenant open (opening and catching it up if needed). */
  async use<T>(name: TenantName, fn: (tenant: Tenant) => Promise<T>): Promise<T> {
    if (this.#closed) throw new RemError("REM_ERR_LOG_CLOSED", "the tenant pool is closed", { tenant: name });
    let entry = this.#entries.get(name);
    while (entry?.closing) {
      await entry.closing; // an eviction of this tenant is finishing: open it afresh
      entry = this.#entries.get(name);
    }
    if (entry === undefined) {
      const open = async (): Promise<Tenant> => {
        await this.#o.beforeOpen?.(name);
        return Tenant.open(this.#config, name, { keystore: this.#o.keystore, write: this.#o.write, nats: this.#o.nats });
      };
      const opening = open();
      entry = { opening, tenant: null, users: 0, closing: null };
      this.#entries.set(name, entry);
      opening.then(
        (t) => {
          entry!.tenant = t;
          this.#o.onOpen?.(t);
        },
        () => this.#entries.delete(name), // a failed open is not cached: the next use tries again
      );
    } else if (this.#entries.size > 1) {
      // Move to the end (most recent). A Map delete + set per request adds a deleted slot each
      // time until the Map rehashes: skip it when the tenant is already the most recent.
      if (this.#last !== entry) {
        this.#entries.delete(name);
        this.#entries.set(name, entry);
      }
    }
    this.#last = entry;
    entry.users++;
    try {
      const tenant = entry.tenant ?? (await entry.opening); // an open tenant needs no extra turn of the event loop
      return await fn(tenant);
    } finally {
      entry.users--;
      this.#evict();
    }
  }

  /**
   * Runs `fn` with the tenant if it is open now (never opens one): background
   * work on hot tenants. Returns undefined when it is not open.
   */
  async useOpen<T>(name: TenantName, fn: (tenant: Tenant) => Promise<T>): Promise<T | undefined> {
    const entry = this.#entries.get(name);
    if (this.#closed || entry === undefined || entry.tenant === null || entry.closing !== null) return undefined;
    entry.users++;
    try {
      return await fn(entry.tenant);
    } finally {
      entry.users--;
    }
  }

  /** Closes every tenant, after their current uses finish. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#entries.values()];
    await Promise.all(
      all.map(async (e) => {
        const t = await e.opening.catch(() => null);
        while (e.users > 0) await new Promise((r) => setTimeout(r, 10));
        await t?.close();
      }),
    );
    this.#entries.clear();
  }

  #evict(): void {
    const max = this.#o.maxOpen ?? 64;
    if (this.#entries.size <= max) return;
    let open = [...this.#entries.values()].filter((e) => e.closing === null).length;
    for (const [name, e] of this.#entries) {
      if (open <= max) break;
      if (e.users > 0 || e.tenant === null || e.closing !== null) continue;
      const t = e.tenant;
      e.closing = t.close().finally(() => {
        if (this.#entries.get(name) === e) this.#entries.delete(name);
      });
      open--;
    }
  }
}
