/** How a remote provider retries a failed request. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubles each time. */
  readonly baseDelayMs: number;
  /** Ceiling of the exponential delay. */
  readonly maxDelayMs: number;
}

/** Longest wait a server's Retry-After can impose; beyond it we retry sooner rather than hang. */
export const MAX_RETRY_AFTER_MS = 120_000;

/**
 * The wait before retry number `retry` (1 for the first): base × 2^(retry-1),
 * capped, then "equal jitter" (between half and all of it) so that clients
 * throttled together do not come back together.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return exp / 2 + random() * (exp / 2);
}

/**
 * The wait a server asked for, in ms, or null: `retry-after-ms` (sent by
 * OpenAI), else `Retry-After` as seconds or as an HTTP date. Capped at
 * MAX_RETRY_AFTER_MS.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | null {
  if (headers === undefined) return null;
  let ms: number | null = null;
  const msHeader = headers.get("retry-after-ms");
  if (msHeader !== null && /^\d+(\.\d+)?$/.test(msHeader.trim())) ms = Number(msHeader);
  const header = headers.get("retry-after");
  if (ms === null && header !== null) {
    const value = header.trim();
    if (/^\d+(\.\d+)?$/.test(value)) ms = Number(value) * 1000;
    else {
      const date = Date.parse(value);
      if (!Number.isNaN(date)) ms = Math.max(0, date - now);
    }
  }
  return ms === null ? null : Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
