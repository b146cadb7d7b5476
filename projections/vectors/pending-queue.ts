import { quantizeRow, strideOf } from "./quantize.js";
import type { QuantizedRows } from "./rank-int8.js";

/**
 * The labels whose current vector waits for its HNSW graph insert, oldest
 * first, each also kept as an int8 row (rank-int8.ts): a search scores the
 * whole backlog with the kernel (~0.03 µs a row) and rescores only what can
 * reach its top k, so a backlog of tens of thousands costs a search about a
 * millisecond instead of ~0.4 µs a row in JavaScript. A label is in the queue
 * at most once: re-queueing or dropping it marks its old entry dead.
 */
export class PendingQueue implements QuantizedRows {
  readonly dim: number;
  readonly stride: number;
  codes: Int8Array;
  scales: Float32Array;
  errors: Float32Array;
  labels: Int32Array;
  /** Entries [head, tail) of the arrays; dead ones have a negative error. */
  head = 0;
  tail = 0;
  #count = 0;
  /** Per label: its entry's position + 1, 0 when not queued. */
  #pos: Int32Array;

  constructor(dim: number, labelCapacity: number) {
    this.dim = dim;
    this.stride = strideOf(dim);
    this.codes = new Int8Array(0);
    this.scales = new Float32Array(0);
    this.errors = new Float32Array(0);
    this.labels = new Int32Array(0);
    this.#pos = new Int32Array(labelCapacity);
  }

  /** Live entries. */
  get count(): number {
    return this.#count;
  }

  /** The label space grew (the index's capacity). */
  growLabels(capacity: number): void {
    const pos = new Int32Array(capacity);
    pos.set(this.#pos);
    this.#pos = pos;
  }

  /** Queues `label` with its row of `matrix` (unit vectors, dim apart), replacing an earlier entry. */
  push(label: number, matrix: Float32Array): void {
    this.drop(label);
    if (this.tail === this.labels.length) this.#makeRoom();
    const at = this.tail++;
    this.labels[at] = label;
    quantizeRow(matrix, label * this.dim, this.dim, this.codes, at * this.stride, this.scales, this.errors, at);
    this.#pos[label] = at + 1;
    this.#count++;
  }

  /** Takes `label` out (removed, or its graph insert done otherwise). */
  drop(label: number): void {
    const p = this.#pos[label]!;
    if (p === 0) return;
    this.errors[p - 1] = -1;
    this.#pos[label] = 0;
    this.#count--;
  }

  /** Takes out and returns the oldest live label; −1 when there is none. */
  shift(): number {
    while (this.head < this.tail) {
      const at = this.head++;
      if (this.errors[at]! < 0) continue;
      const label = this.labels[at]!;
      this.#pos[label] = 0;
      this.#count--;
      return label;
    }
    this.head = this.tail = 0;
    return -1;
  }

  /** Live labels, oldest first. */
  *live(): IterableIterator<number> {
    for (let at = this.head; at < this.tail; at++) if (this.errors[at]! >= 0) yield this.labels[at]!;
  }

  /** Room for one more at the tail: compacts the live entries to the front, growing the arrays when they are more than half full. */
  #makeRoom(): void {
    const live = this.#count;
    const size = Math.max(64, live * 2 >= this.labels.length ? this.labels.length * 2 : this.labels.length);
    const codes = new Int8Array(size * this.stride);
    const scales = new Float32Array(size);
    const errors = new Float32Array(size);
    const labels = new Int32Array(size);
    let to = 0;
    for (let at = this.head; at < this.tail; at++) {
      if (this.errors[at]! < 0) continue;
      codes.set(this.codes.subarray(at * this.stride, (at + 1) * this.stride), to * this.stride);
      scales[to] = this.scales[at]!;
      errors[to] = this.errors[at]!;
      labels[to] = this.labels[at]!;
      this.#pos[labels[to]!] = to + 1;
      to++;
    }
    this.codes = codes;
    this.scales = scales;
    this.errors = errors;
    this.labels = labels;
    this.head = 0;
    this.tail = to;
  }
}
