import type { Cleanup } from "./cleanup.js";

export interface SuiteOptions {
  /** Smaller workloads and fewer repetitions: a smoke run in about a minute. */
  readonly quick: boolean;
  /** Register anything that must be undone (also when the run fails or is interrupted). */
  readonly cleanup: Cleanup;
}

/** One benchmark suite (`npm run bench -- <name>`). */
export interface Suite {
  readonly name: string;
  readonly description: string;
  /** Measures and returns the results object printed as the last stdout line. */
  run(options: SuiteOptions): Promise<Record<string, unknown>>;
}
