/**
 * Runs task(0) … task(total - 1) with at most `width` in flight, starting the
 * next one as soon as any finishes (a client with a bounded number of
 * outstanding requests). Tasks start in index order. After a failure no new task
 * starts; the first error is rethrown once the running ones have settled.
 */
export async function inFlight(total: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown = null;
  const worker = async (): Promise<void> => {
    while (!failed && next < total) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        if (!failed) firstError = err;
        failed = true;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(width, total); w++) workers.push(worker());
  await Promise.all(workers);
  if (failed) throw firstError;
}
