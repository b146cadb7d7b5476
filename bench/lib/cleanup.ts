import { progress } from "./report.js";

/**
 * Things to undo at the end of a run (servers, temp dirs, streams, databases),
 * undone in reverse order of registration, on success and on failure alike. A
 * failing step is reported and the rest still run.
 */
export class Cleanup {
  readonly #steps: { name: string; fn: () => Promise<void> | void }[] = [];
  #running: Promise<void> | null = null;

  /** Registers a step; returns a function that runs it early (and only once). */
  add(name: string, fn: () => Promise<void> | void): () => Promise<void> {
    const step = { name, fn };
    this.#steps.push(step);
    return async () => {
      const i = this.#steps.indexOf(step);
      if (i < 0) return;
      this.#steps.splice(i, 1);
      await runStep(step);
    };
  }

  /** Runs every remaining step; safe to call more than once (later calls wait for the first). */
  run(): Promise<void> {
    this.#running ??= (async () => {
      while (this.#steps.length > 0) await runStep(this.#steps.pop()!);
    })();
    return this.#running;
  }
}

async function runStep(step: { name: string; fn: () => Promise<void> | void }): Promise<void> {
  try {
    await step.fn();
  } catch (err) {
    progress(`cleanup: ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
