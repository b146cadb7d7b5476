import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The server's Prometheus metrics (prom-client), served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: "rem_http_requests_total", help: "HTTP requests", labelNames: ["method", "route", "status"], registers: [this.registry] });
  readonly latency = new Histogram({
    name: "rem_http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly appends = new Counter({ name: "rem_appended_events_total", help: "Events appended through this server", labelNames: ["tenant"], registers: [this.registry] });
  readonly lag = new Gauge({ name: "rem_projection_lag_commits", help: "Commits in the log not yet applied to the projections", labelNames: ["tenant"], registers: [this.registry] });
  readonly openTenants = new Gauge({ name: "rem_open_tenants", help: "Tenants open on this node", registers: [this.registry] });
  readonly replicaDelay = new Gauge({
    name: "rem_replica_apply_delay_ms",
    help: "Replica: apply time minus the writer's timestamp of the last applied commit",
    labelNames: ["tenant"],
    registers: [this.registry],
  });
  readonly backlog = new Gauge({ name: "rem_embedding_backlog", help: "Texts waiting for an embedding", labelNames: ["tenant"], registers: [this.registry] });

  /** Label children per (method, route[, status]): prom-client hashes label objects on every call otherwise. */
  readonly #children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "rem_" });
  }

  /** Counts a finished request and records its latency (seconds). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let c = this.#children.get(key);
    if (c === undefined) {
      c = { count: this.requests.labels(method, route, String(status)), time: this.latency.labels(method, route) };
      this.#children.set(key, c);
    }
    c.count.inc();
    c.time.observe(seconds);
  }
}
