import type { FastifyBaseLogger } from "fastify";
import { asRemError, RemError, type ErrorCode } from "../errors.js";
import type { TenantName } from "../../events/model/ids.js";
import { embedPending } from "../node/embedding-worker.js";
import type { Tenant } from "../node/tenant.js";
import type { ServerContext } from "./context.js";

export interface BackgroundOptions {
  /** Pause between rounds over the open tenants (default 500 ms). */
  readonly intervalMs?: number;
  /** Snapshot a tenant's changed HNSW indexes at most this often (default 5 minutes). */
  readonly snapshotEveryMs?: number;
  /** Longest wait before retrying a failing embedding provider (default 60 s; doubling from 1 s). */
  readonly embedBackoffMaxMs?: number;
}

/** What the background work last saw of a tenant. */
export interface TenantHealth {
  /** Commits in the log the projections have not applied yet. */
  lag: number;
  /** Texts waiting for an embedding (0 when none). */
  backlog: number;
  /** The last error of this tenant's background work, cleared by the next success. */
  error: RemError | null;
  checkedAt: number;
  embedRetryAt: number;
  embedBackoffMs: number;
  snapshotAt: number;
}

/**
 * The work a server does between requests, for every open tenant, one round
 * after another:
 * - catch the projections up with commits other writers appended (JetStream
 *   has many writers; a request asking for `min_seq` also catches up itself);
 * - drain the embedding backlog (inserts made with `embed=false`, or left by a
 *   provider outage), backing off exponentially while the provider fails;
 * - snapshot HNSW indexes that changed, so a restart replays only a short tail.
 * Errors are kept per tenant (readiness and metrics show them), never thrown
 * away silently, and never stop the rounds.
 */
export class BackgroundWork {
  readonly #ctx: ServerContext;
  readonly #log: FastifyBaseLogger;
  readonly #interval: number;
  readonly #snapshotEvery: number;
  readonly #backoffMax: number;
  readonly health: Map<TenantName, TenantHealth>;
  #timer: NodeJS.Timeout | null = null;
  #round: Promise<void> | null = null;
  #stopping = new AbortController();

  constructor(ctx: ServerContext, log: FastifyBaseLogger, o: BackgroundOptions = {}) {
    this.#ctx = ctx;
    this.health = ctx.health;
    this.#log = log;
    this.#interval = o.intervalMs ?? 500;
    this.#snapshotEvery = o.snapshotEveryMs ?? 5 * 60_000;
    this.#backoffMax = o.embedBackoffMaxMs ?? 60_000;
  }

  start(): void {
    if (this.#timer !== null || this.#stopping.signal.aborted) return;
    this.#schedule();
  }

  /** Stops after the round in progress (an embedding batch is cut short between provider calls). */
  async stop(): Promise<void> {
    this.#stopping.abort();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#round;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#round = this.round().finally(() => {
        this.#round = null;
        if (!this.#stopping.signal.aborted) this.#schedule();
      });
    }, this.#interval);
    this.#timer.unref();
  }

  /** One pass over the open tenants (also called directly by tests). */
  async round(): Promise<void> {
    const open = this.#ctx.pool.open;
    for (const name of [...this.health.keys()]) if (!open.includes(name)) this.health.delete(name);
    this.#ctx.metrics.openTenants.set(open.length);
    for (const name of open) {
      if (this.#stopping.signal.aborted) return;
      await this.#ctx.pool.useOpen(name, (t) => this.#tend(t));
    }
  }

  async #tend(t: Tenant): Promise<void> {
    let h = this.health.get(t.name);
    if (h === undefined) {
      h = { lag: 0, backlog: 0, error: null, checkedAt: 0, embedRetryAt: 0, embedBackoffMs: 0, snapshotAt: Date.now() };
      this.health.set(t.name, h);
    }
    try {
      // A replica's follower applies commits as they come; waiting here would stall every
      // other tenant's round for as long as NATS is away. Report what it last saw instead.
      const st = this.#ctx.followers.get(t.name)?.status();
      if (st !== undefined) {
        if (st.last_error !== null && !st.connected) throw new RemError(st.last_error.code as ErrorCode, st.last_error.message, { tenant: t.name });
        h.lag = st.lag_commits;
        if (st.apply_delay_ms !== null) this.#ctx.metrics.replicaDelay.set({ tenant: t.name }, st.apply_delay_ms);
      } else {
        const head = await t.log.head();
        if ((t.store.checkpoint?.seq ?? 0) < head.seq) await t.sync(head.seq);
        h.lag = Math.max(0, head.seq - (t.store.checkpoint?.seq ?? 0));
      }
      h.checkedAt = Date.now();
      this.#ctx.metrics.lag.set({ tenant: t.name }, h.lag);
      await this.#embed(t, h);
      await this.#snapshot(t, h);
      h.error = null;
    } catch (err) {
      const e = asRemError(err);
      if (h.error?.code !== e.code) this.#log.warn({ tenant: t.name, code: e.code, err: e.message }, "background work failed; retrying");
      h.error = e;
    }
  }

  async #embed(t: Tenant, h: TenantHealth): Promise<void> {
    if (!this.#ctx.embedInBackground || this.#ctx.replica) return;
    const waiting = (await t.store.pendingEmbeddings(1)).length > 0;
    if (!waiting) {
      h.backlog = 0;
      this.#ctx.metrics.backlog.set({ tenant: t.name }, 0);
      return;
    }
    if (Date.now() < h.embedRetryAt) return;
    const r = await embedPending(t, { signal: this.#stopping.signal });
    h.backlog = r.pending;
    this.#ctx.metrics.backlog.set({ tenant: t.name }, r.pending);
    if (r.error !== undefined) {
      h.embedBackoffMs = Math.min(this.#backoffMax, Math.max(1000, h.embedBackoffMs * 2));
      h.embedRetryAt = Date.now() + h.embedBackoffMs;
      throw r.error;
    }
    h.embedBackoffMs = 0;
  }

  async #snapshot(t: Tenant, h: TenantHealth): Promise<void> {
    const vectors = t.loadedVectors;
    if (vectors === null || !vectors.dirty || Date.now() - h.snapshotAt < this.#snapshotEvery) return;
    await vectors.snapshot();
    h.snapshotAt = Date.now();
  }
}
