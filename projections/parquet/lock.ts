/**
 * A readers-writer lock within one process: queries share it, an export run
 * holds it alone — so no query ever reads a file an export is replacing or
 * deleting. Writers are preferred (a waiting writer stops new readers), so a
 * stream of queries cannot starve the catch-up that keeps them fresh.
 */
export class RwLock {
  #readers = 0;
  #writer = false;
  #waiting: { write: boolean; go(): void }[] = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(false);
    try {
      return await fn();
    } finally {
      this.#readers--;
      this.#wake();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire(true);
    try {
      return await fn();
    } finally {
      this.#writer = false;
      this.#wake();
    }
  }

  #acquire(write: boolean): Promise<void> {
    if (this.#free(write) && this.#waiting.length === 0) {
      this.#take(write);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ write, go: resolve }));
  }

  #free(write: boolean): boolean {
    return write ? !this.#writer && this.#readers === 0 : !this.#writer;
  }

  #take(write: boolean): void {
    if (write) this.#writer = true;
    else this.#readers++;
  }

  #wake(): void {
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0]!;
      if (!this.#free(next.write)) return;
      this.#waiting.shift();
      this.#take(next.write);
      next.go();
      if (next.write) return;
    }
  }
}
