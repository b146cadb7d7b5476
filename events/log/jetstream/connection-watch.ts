import type { NatsConnection, Status } from "@nats-io/nats-core";

/**
 * Whether a NatsConnection is connected right now, learnt from its status
 * events (nats.js has no getter for it).
 *
 * Why it matters: nats.js 3 discards whatever was written while disconnected
 * when it reconnects, so a request sent during an outage is silently lost and
 * only fails at its timeout. Callers wait for the connection first instead.
 */
export class ConnectionWatch {
  readonly #nc: NatsConnection;
  // nc.status() is typed as a plain AsyncIterable; at runtime it is a QueuedIterator with stop().
  readonly #events: AsyncIterable<Status> & { stop?: () => void };
  readonly #onDisconnect = new Set<() => void>();
  readonly #waiters = new Set<() => void>();
  #connected = true; // the caller hands us a connection that just connected

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#events = nc.status();
    void this.#run();
  }

  get connected(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  /** Calls `fn` on every disconnect until the returned function is called. */
  onDisconnect(fn: () => void): () => void {
    this.#onDisconnect.add(fn);
    return () => this.#onDisconnect.delete(fn);
  }

  /** Resolves true once connected; false if `timeoutMs` passes, `signal` aborts or the connection closes first. */
  waitConnected(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (this.#nc.isClosed() || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        if (timer !== undefined) clearTimeout(timer);
        resolve(this.connected);
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(done, timeoutMs) : undefined;
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  stop(): void {
    this.#events.stop?.();
    for (const wake of [...this.#waiters]) wake();
  }

  async #run(): Promise<void> {
    for await (const s of this.#events) {
      if (s.type === "disconnect") {
        this.#connected = false;
        for (const fn of [...this.#onDisconnect]) fn();
      } else if (s.type === "reconnect" || s.type === "close") {
        this.#connected = s.type === "reconnect";
        for (const wake of [...this.#waiters]) wake();
      }
    }
  }
}
