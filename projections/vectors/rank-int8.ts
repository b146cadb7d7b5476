import { int8Kernel } from "./kernel/int8-dot.js";
import { errorBound, type QuantizedQuery } from "./quantize.js";

/** Rows quantized by quantizeRow, one after another; a negative error marks a row to skip. */
export interface QuantizedRows {
  readonly codes: Int8Array;
  readonly scales: Float32Array;
  readonly errors: Float32Array;
  readonly labels: Int32Array;
  readonly stride: number;
}

/** Where ranked rows go: their float32 score, and the score a row must now reach to enter. */
export interface RankSink {
  offer(label: number, score: number): void;
  /** The k-th best score held, −∞ while fewer than k. */
  bar(): number;
}

/**
 * Ranks rows [from, to) by the int8 kernel and offers to `sink` every row that
 * can be in its top k, scored in float32 by `exact`: first the k best int8
 * scores (they set the sink's bar), then each row whose int8 score plus error
 * bound (quantize.ts) still reaches the bar, raising it as it goes. A row not
 * offered scores below the final bar, so the sink ends with the float32 top k
 * of these rows and whatever it held before. `accept` (by label) filters rows.
 * Returns how many rows were scored in float32.
 */
export function rankInt8(
  rows: QuantizedRows,
  from: number,
  to: number,
  q: QuantizedQuery,
  k: number,
  exact: (label: number) => number,
  sink: RankSink,
  accept?: (label: number) => boolean,
): number {
  const n = to - from;
  if (n <= 0) return 0;
  const { scales, errors, labels, stride } = rows;
  const dots = int8Kernel().dots(rows.codes.subarray(from * stride, to * stride), n, stride, q.codes);
  const approx = new Float64Array(n);
  // The k best int8 scores (indexes into the range), kept sorted best first: k is small.
  const best: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = from + i;
    if (errors[r]! < 0) {
      approx[i] = Number.NEGATIVE_INFINITY;
      continue;
    }
    const a = dots[i]! * scales[r]! * q.scale;
    approx[i] = a;
    if (best.length === k && a <= approx[best[k - 1]!]!) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && approx[best[j - 1]!]! < a) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = i;
  }
  const done = new Uint8Array(n);
  let rescored = 0;
  const score = (i: number): void => {
    done[i] = 1;
    const label = labels[from + i]!;
    if (accept !== undefined && !accept(label)) return;
    sink.offer(label, exact(label));
    rescored++;
  };
  for (const i of best) score(i);
  let bar = sink.bar();
  for (let i = 0; i < n; i++) {
    if (done[i] === 1 || approx[i] === Number.NEGATIVE_INFINITY) continue;
    if (approx[i]! + errorBound(errors[from + i]!, q) < bar) continue;
    score(i);
    bar = sink.bar();
  }
  return rescored;
}
