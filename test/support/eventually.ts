/**
 * Polls `fn` until `ok` holds or `ms` pass, and returns the last value either
 * way: the caller's assertion on it says what was expected.
 */
export async function eventually<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
