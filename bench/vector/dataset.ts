/**
 * The data set: `n` unit vectors of `dim` components drawn around `clusters`
 * Gaussian cluster centres, and query vectors drawn the same way (near random
 * clusters, but not in the data). Deterministic: one seeded PRNG drives all.
 * Vectors live in SharedArrayBuffers so ground-truth workers read them without
 * a copy.
 */
export interface Dataset {
  readonly n: number;
  readonly dim: number;
  /** n × dim, row i = vector i (unit length). */
  readonly vectors: Float32Array;
  /** queries × dim (unit length). */
  readonly queries: Float32Array;
  readonly queryCount: number;
}

export interface DatasetSpec {
  readonly n: number;
  readonly dim: number;
  readonly clusters: number;
  readonly sigma: number;
  readonly queries: number;
  readonly seed: number;
}

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Marsaglia's polar method, both values of each pair used). */
function gaussian(rnd: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = Number.NaN;
      return v;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * rnd() - 1;
      v = 2 * rnd() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * f;
    return u * f;
  };
}

function normalise(a: Float32Array, off: number, dim: number): void {
  let ss = 0;
  for (let j = 0; j < dim; j++) ss += a[off + j]! * a[off + j]!;
  const inv = 1 / Math.sqrt(ss);
  for (let j = 0; j < dim; j++) a[off + j] = a[off + j]! * inv;
}

function shared(floats: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(floats * 4));
}

export function makeDataset(spec: DatasetSpec): Dataset {
  const { n, dim, clusters, sigma } = spec;
  const rnd = prng(spec.seed);
  const g = gaussian(rnd);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = g();
  for (let k = 0; k < clusters; k++) normalise(centres, k * dim, dim);
  // A point: its cluster's unit centre plus isotropic noise of sigma per component, normalised.
  const draw = (out: Float32Array, row: number): void => {
    const c = Math.floor(rnd() * clusters) * dim;
    const off = row * dim;
    for (let j = 0; j < dim; j++) out[off + j] = centres[c + j]! + sigma * g();
    normalise(out, off, dim);
  };
  const vectors = shared(n * dim);
  for (let i = 0; i < n; i++) draw(vectors, i);
  const queries = shared(spec.queries * dim);
  for (let q = 0; q < spec.queries; q++) draw(queries, q);
  return { n, dim, vectors, queries, queryCount: spec.queries };
}

/** Row i of an n × dim matrix (a view, no copy). */
export function row(m: Float32Array, i: number, dim: number): Float32Array {
  return m.subarray(i * dim, (i + 1) * dim);
}
