import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS, RequestStats } from "../../src/server/request-stats.js";

/** Metric lines (no comments) of a registry, as name{labels} → value. */
async function lines(r: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const l of (await r.metrics()).split("\n")) {
    if (l === "" || l.startsWith("#")) continue;
    const at = l.lastIndexOf(" ");
    out.set(l.slice(0, at), Number(l.slice(at + 1)));
  }
  return out;
}

describe("RequestStats", () => {
  it("renders what prom-client's own Counter and Histogram render for the same requests (property)", async () => {
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE"),
      route: fc.constantFrom("/api/v1/entities/:id", "/api/v1/query", "unmatched"),
      status: fc.constantFrom(200, 201, 404, 500),
      seconds: fc.oneof(fc.constantFrom(...LATENCY_BUCKETS), fc.double({ min: 0, max: 5, noNaN: true })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 60 }), async (reqs) => {
        const ours = new Registry();
        const stats = new RequestStats(ours);
        const theirs = new Registry();
        const count = new Counter({ name: "rem_http_requests_total", help: "HTTP requests", labelNames: ["method", "route", "status"], registers: [theirs] });
        const time = new Histogram({ name: "rem_http_request_duration_seconds", help: "HTTP request latency", labelNames: ["method", "route"], buckets: [...LATENCY_BUCKETS], registers: [theirs] });
        for (const r of reqs) {
          stats.observe(r.method, r.route, r.status, r.seconds);
          count.inc({ method: r.method, route: r.route, status: String(r.status) });
          time.observe({ method: r.method, route: r.route }, r.seconds);
        }
        const [a, b] = [await lines(ours), await lines(theirs)];
        expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
        for (const [k, v] of b) {
          // Sums are added in another order: equal to rounding.
          if (k.includes("_sum")) expect(a.get(k)).toBeCloseTo(v, 9);
          else expect(a.get(k)).toBe(v);
        }
      }),
      { numRuns: 100 },
    );
  });
});
