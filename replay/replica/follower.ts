import { asRemError, type RemError } from "../../src/errors.js";
import type { Tenant } from "../../src/node/tenant.js";
import type { AppliedBatch } from "../../projections/runner.js";
import { pause } from "../../events/log/pause.js";
import { lagOf, type ReplicationStatus } from "./status.js";

export interface FollowerOptions {
  /** The stream's address as shown in the status (credentials removed). */
  readonly source: string | null;
  /** How often the primary's head is asked for, to report lag (default 1 s). */
  readonly headEveryMs?: number;
  /** Backoff after a failed follow, doubling from `retryMinMs` (default 100 ms) to `retryMaxMs` (default 10 s). */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Called after each applied batch (the status is already updated). */
  readonly onBatch?: (batch: AppliedBatch, status: ReplicationStatus) => void;
  /** Called when following fails (it is retried after the backoff). */
  readonly onError?: (err: RemError) => void;
}

/**
 * Keeps a tenant's projections following its log: a read replica. Commits are
 * applied in order, each batch with its checkpoint, so the replica never applies
 * a commit twice or skips one — it resumes from its own checkpoint after any
 * failure, and the hash chain (anchored at the checkpoint) proves continuity.
 * Connection loss is ridden out by the JetStream reader (it resumes after the
 * server returns); any other failure (a broken chain, an unknown signing key)
 * is reported in the status and retried with backoff, never skipped.
 */
export class Follower {
  readonly #tenant: Tenant;
  readonly #o: FollowerOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #headTimer: NodeJS.Timeout | null = null;
  #head: { seq: number; ts: number; checkedAt: number } | null = null;
  #lastError: { code: string; message: string; at: string } | null = null;
  #applyDelay: number | null = null;
  #applied = 0;
  readonly #startedAt = new Date().toISOString();

  constructor(tenant: Tenant, options: FollowerOptions) {
    this.#tenant = tenant;
    this.#o = options;
  }

  /** Starts following in the background; the tenant stops it when it closes. */
  start(): this {
    if (this.#loop !== null) return this;
    this.#loop = this.#run();
    this.#tenant.onClose(() => this.stop());
    const every = this.#o.headEveryMs ?? 1000;
    const tick = (): void => {
      this.#headTimer = setTimeout(() => {
        void this.refreshHead().finally(() => {
          if (!this.#stop.signal.aborted) tick();
        });
      }, every);
      this.#headTimer.unref();
    };
    void this.refreshHead();
    tick();
    return this;
  }

  /** Stops following after the batch in progress is written. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#headTimer !== null) clearTimeout(this.#headTimer);
    this.#headTimer = null;
    await this.#loop;
  }

  get running(): boolean {
    return this.#loop !== null && !this.#stop.signal.aborted;
  }

  /** Asks the primary for its head (failures are recorded, not thrown). */
  async refreshHead(): Promise<void> {
    try {
      const h = await this.#tenant.log.head();
      this.#head = { seq: h.seq, ts: h.ts, checkedAt: Date.now() };
    } catch (err) {
      if (!this.#stop.signal.aborted) this.#record(asRemError(err));
    }
  }

  status(): ReplicationStatus {
    const cp = this.#tenant.store.checkpoint;
    const seq = cp?.seq ?? 0;
    const head = this.#head;
    const connected = this.#tenant.log.backend.connected ?? true;
    return {
      v: 1,
      tenant: this.#tenant.name,
      role: "replica",
      source: this.#o.source,
      position: { seq, ts: cp === null ? null : new Date(cp.ts).toISOString() },
      head: head === null ? null : { seq: head.seq, ts: head.seq === 0 ? null : new Date(head.ts).toISOString(), checked_at: new Date(head.checkedAt).toISOString() },
      ...(head === null ? { lag_commits: 0, lag_ms: 0 } : lagOf(head, { seq, ts: cp?.ts ?? null })),
      apply_delay_ms: this.#applyDelay,
      connected,
      following: this.running,
      last_error: this.#lastError,
      applied_commits: this.#applied,
      started_at: this.#startedAt,
      updated_at: new Date().toISOString(),
      pid: process.pid,
    };
  }

  async #run(): Promise<void> {
    const min = this.#o.retryMinMs ?? 100;
    const max = this.#o.retryMaxMs ?? 10_000;
    let backoff = min;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.#tenant.runner.follow({
          signal,
          onBatch: (b) => {
            backoff = min;
            this.#applied += b.commits;
            this.#applyDelay = Math.max(0, Date.now() - b.ts);
            this.#lastError = null;
            if (this.#head === null || this.#head.seq < b.seq) this.#head = { seq: b.seq, ts: b.ts, checkedAt: Date.now() };
            this.#o.onBatch?.(b, this.status());
          },
        });
      } catch (err) {
        if (signal.aborted) break;
        const e = asRemError(err);
        this.#record(e);
        this.#o.onError?.(e);
        await pause(backoff, signal);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  #record(e: RemError): void {
    this.#lastError = { code: e.code, message: e.message, at: new Date().toISOString() };
  }
}
