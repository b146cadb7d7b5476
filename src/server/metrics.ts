import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { RequestStats } from "./request-stats.js";

/** The server's Prometheus metrics (prom-client), served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();
  /** rem_http_requests_total and rem_http_request_duration_seconds (see request-stats.ts). */
  readonly requests = new RequestStats(this.registry);
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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "rem_" });
  }

  /** Counts a finished request and records its latency (seconds). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe(method, route, status, seconds);
  }
}
