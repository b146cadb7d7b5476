import type { Registry } from "prom-client";

/** Latency buckets (seconds) of rem_http_request_duration_seconds. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Series {
  readonly method: string;
  readonly route: string;
  readonly status: string;
  count: number;
  sum: number;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly buckets: Float64Array;
}

/** One sample as prom-client's registry renders it (what a metric's `get()` returns in `values`). */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator: "sum";
  readonly values: Sample[];
}

/**
 * rem_http_requests_total{method,route,status} and
 * rem_http_request_duration_seconds{method,route} (a histogram), counted in
 * plain numbers and rendered by prom-client's registry at scrape time.
 *
 * prom-client's own Counter and Histogram validate and hash their labels on
 * every inc/observe, even through a labelled child: ~1.3 µs per request here,
 * about 5% of a cached GET. Recording one here is a Map lookup and a bucket scan.
 */
export class RequestStats {
  readonly #series: Series[] = [];
  /**
   * route → method → status → series. Nested maps: route and method strings
   * are the same string objects every request (their hashes are cached), where
   * a concatenated key would be a new string to hash each time.
   */
  readonly #index = new Map<string, Map<string, Map<number, Series>>>();

  constructor(registry: Registry) {
    // The registry asks each metric for get() (name, help, type, values), as it does its own classes.
    const requests = { name: "rem_http_requests_total", help: "HTTP requests", get: () => this.#requests() };
    const latency = { name: "rem_http_request_duration_seconds", help: "HTTP request latency", get: () => this.#latency() };
    registry.registerMetric(requests as unknown as Parameters<Registry["registerMetric"]>[0]);
    registry.registerMetric(latency as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** Counts a finished request and records its latency (seconds). */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#index.get(route);
    if (byMethod === undefined) this.#index.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (s === undefined) {
      s = { method, route, status: String(status), count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1) };
      byStatus.set(status, s);
      this.#series.push(s);
      this.#series.sort((a, b) => (a.method < b.method ? -1 : a.method > b.method ? 1 : a.route < b.route ? -1 : a.route > b.route ? 1 : a.status < b.status ? -1 : a.status > b.status ? 1 : 0));
    }
    s.count++;
    s.sum += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    s.buckets[i]!++;
  }

  #requests(): CollectedMetric {
    const values: Sample[] = [];
    for (const s of this.#series) values.push({ labels: { method: s.method, route: s.route, status: s.status }, value: s.count });
    return { name: "rem_http_requests_total", help: "HTTP requests", type: "counter", aggregator: "sum", values };
  }

  /** The histogram is per (method, route): statuses are summed, as the counter keeps them apart. */
  #latency(): CollectedMetric {
    const byRoute = new Map<string, { method: string; route: string; count: number; sum: number; buckets: Float64Array }>();
    for (const s of this.#series) {
      const key = `${s.method} ${s.route}`;
      let r = byRoute.get(key);
      if (r === undefined) byRoute.set(key, (r = { method: s.method, route: s.route, count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1) }));
      r.count += s.count;
      r.sum += s.sum;
      for (let i = 0; i < r.buckets.length; i++) r.buckets[i]! += s.buckets[i]!;
    }
    const name = "rem_http_request_duration_seconds";
    const values: Sample[] = [];
    for (const r of byRoute.values()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += r.buckets[i]!;
        values.push({ labels: { le: LATENCY_BUCKETS[i]!, method: r.method, route: r.route }, value: cumulative, metricName: `${name}_bucket` });
      }
      values.push({ labels: { le: "+Inf", method: r.method, route: r.route }, value: r.count, metricName: `${name}_bucket` });
      values.push({ labels: { method: r.method, route: r.route }, value: r.sum, metricName: `${name}_sum` });
      values.push({ labels: { method: r.method, route: r.route }, value: r.count, metricName: `${name}_count` });
    }
    return { name, help: "HTTP request latency", type: "histogram", aggregator: "sum", values };
  }
}
