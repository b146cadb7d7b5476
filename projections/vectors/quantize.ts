/**
 * Scalar quantization for exact-by-bound scoring (filtered search).
 *
 * A stored unit vector x becomes int8 codes c with one scale s per row
 * (s = max|x_i| / 127, c_i = round(x_i / s)) and the norm of what was lost,
 * ‖x − s·c‖. A unit query y becomes int16 codes Q with scale t. Then
 *
 *   x·y = s·t·(c·Q) + (x − s·c)·y + s·c·(y − t·Q)
 *
 * so |x·y − s·t·(c·Q)| ≤ ‖x − s·c‖·‖y‖ + ‖s·c‖·‖y − t·Q‖ (Cauchy–Schwarz):
 * a bound per row that lets a search rescore exactly only the rows whose
 * approximate score plus bound can still reach the k-th exact score, and so
 * return the same top k as scoring every row exactly.
 */

/** Columns of a quantized row: the dimension rounded up to the kernel's 16. */
export const strideOf = (dim: number): number => Math.ceil(dim / 16) * 16;

/** Relative slack on stored error norms (float32 rounding of a float64 norm is 2^-24). */
const NORM_SLACK = 1 + 1e-6;

/**
 * Quantizes the unit row `x` (dim values from `xAt`) into `codes` at `at`
 * (stride bytes, the padding zeroed); stores its scale and error norm at
 * `scales[i]`, `errors[i]`.
 */
export function quantizeRow(x: Float32Array, xAt: number, dim: number, codes: Int8Array, at: number, scales: Float32Array, errors: Float32Array, i: number): void {
  let max = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(x[xAt + j]!);
    if (a > max) max = a;
  }
  const stride = strideOf(dim);
  codes.fill(0, at, at + stride);
  if (max === 0) {
    scales[i] = 0;
    errors[i] = 0;
    return;
  }
  const s = Math.fround(max / 127); // the scale as stored: the error is measured against it
  let err2 = 0;
  for (let j = 0; j < dim; j++) {
    const v = x[xAt + j]!;
    const c = Math.max(-127, Math.min(127, Math.round(v / s)));
    codes[at + j] = c;
    const e = v - s * c;
    err2 += e * e;
  }
  scales[i] = s;
  errors[i] = Math.sqrt(err2) * NORM_SLACK;
}

export interface QuantizedQuery {
  readonly codes: Int16Array;
  readonly scale: number;
  /** ‖y − t·Q‖ */
  readonly error: number;
  /** ‖y‖ */
  readonly norm: number;
}

/**
 * Quantizes a query to int16 codes, bounded so that 128 · |Q_i| · stride stays
 * under 2^31: the kernel's int32 sums cannot overflow at any dimension.
 */
export function quantizeQuery(y: Float32Array, dim: number): QuantizedQuery {
  const stride = strideOf(dim);
  const codes = new Int16Array(stride);
  let max = 0;
  let norm2 = 0;
  for (let j = 0; j < dim; j++) {
    const v = y[j]!;
    norm2 += v * v;
    if (Math.abs(v) > max) max = Math.abs(v);
  }
  const norm = Math.sqrt(norm2) * NORM_SLACK;
  if (max === 0) return { codes, scale: 0, error: 0, norm };
  const qmax = Math.min(32767, Math.floor((2 ** 31 - 1) / (128 * stride)));
  const t = max / qmax;
  let err2 = 0;
  for (let j = 0; j < dim; j++) {
    const v = y[j]!;
    const c = Math.max(-qmax, Math.min(qmax, Math.round(v / t)));
    codes[j] = c;
    const e = v - t * c;
    err2 += e * e;
  }
  return { codes, scale: t, error: Math.sqrt(err2) * NORM_SLACK, norm };
}

/**
 * The most `s·t·(c·Q)` can differ from x·y for a row with the given error norm
 * (see the module comment); ‖s·c‖ ≤ ‖x‖ + ‖x − s·c‖ and ‖x‖ ≤ 1 + 1e-6 for a
 * stored unit vector. A small absolute slack covers float64 rounding of the sums.
 */
export function errorBound(rowError: number, q: QuantizedQuery): number {
  return rowError * q.norm + (1 + 1e-6 + rowError) * q.error + 1e-9;
}
