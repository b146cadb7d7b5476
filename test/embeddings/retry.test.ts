import { describe, expect, it } from "vitest";
import { Limiter } from "../../src/embeddings/limiter.js";
import { backoffDelay, MAX_RETRY_AFTER_MS, retryAfterMs, sleep } from "../../src/embeddings/retry.js";

describe("retry helpers", () => {
  it("reads Retry-After as seconds, HTTP date or retry-after-ms, capped", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "2" }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "150", "retry-after": "9" }), now)).toBe(150);
    expect(retryAfterMs(new Headers({ "retry-after": "86400" }), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), now)).toBeNull();
    expect(retryAfterMs(new Headers(), now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });

  it("backs off exponentially with jitter between half and all of the step, capped", () => {
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((r) => backoffDelay(r, policy, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3].map((r) => backoffDelay(r, policy, () => 0))).toEqual([50, 100, 200]);
  });

  it("sleep rejects with the abort reason", async () => {
    const reason = new Error("stop");
    const c = new AbortController();
    const p = sleep(10_000, c.signal);
    c.abort(reason);
    await expect(p).rejects.toBe(reason);
  });
});

describe("Limiter", () => {
  it("admits at most max holders, in arrival order, and drops aborted waiters", async () => {
    const limiter = new Limiter(2);
    const r1 = await limiter.acquire();
    const r2 = await limiter.acquire();
    const order: string[] = [];
    const c = new AbortController();
    const aborted = limiter.acquire(c.signal).then(() => order.push("aborted"), () => order.push("gave up"));
    const third = limiter.acquire().then((release) => (order.push("third"), release));
    expect(limiter.active).toBe(2);
    c.abort(new Error("no"));
    await aborted;
    r1();
    r1(); // releasing twice frees one slot only
    const release3 = await third;
    expect(order).toEqual(["gave up", "third"]);
    expect(limiter.active).toBe(2);
    r2();
    release3();
    expect(limiter.active).toBe(0);
  });
});
