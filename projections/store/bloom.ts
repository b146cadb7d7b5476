/**
 * A Bloom filter over byte strings: "definitely absent" or "maybe present".
 * The store uses one to skip reads that must miss while it is being filled
 * from empty (a rebuild): a miss costs a ~3 µs LevelDB get, the filter ~0.1 µs.
 *
 * Cache-blocked (as RocksDB's format_version 5 filters): every bit of one key
 * lies in one 512-bit block, a single cache line. A classic filter of this
 * size (~5 MB, past the L2 cache) took 7 cache misses per add or lookup, and
 * the rebuild path does four per entity. Blocking raises the false positive
 * rate at a given size; 10 bits per key (was 9.6) keeps it at ~1% (measured:
 * 0.96% for random ids, 0.97% for sequential text keys, at capacity). A false
 * positive only costs the read the filter would have skipped.
 */
export class BloomFilter {
  readonly #bits: Int32Array;
  /** Number of 512-bit blocks (16 words each). */
  readonly #blocks: number;
  readonly capacity: number;
  count = 0;

  /** Sized for `capacity` entries at ~10 bits per entry, 7 bits set per key. */
  constructor(capacity: number) {
    this.capacity = capacity;
    this.#blocks = Math.max(2, Math.ceil((capacity * 10) / 512));
    this.#bits = new Int32Array(this.#blocks * 16);
  }

  add(a: Uint8Array, b?: Uint8Array): void {
    this.#probe(a, b, true);
    this.count++;
  }

  mayContain(a: Uint8Array, b?: Uint8Array): boolean {
    return this.#probe(a, b, false);
  }

  /** Visits the key's K bits in its block: sets them (`set`), or reports whether all are set. */
  #probe(a: Uint8Array, b: Uint8Array | undefined, set: boolean): boolean {
    hash2(a, b);
    const bits = this.#bits;
    const base = (H1 % this.#blocks) << 4;
    let h = H2;
    for (let i = 0; i < K; i++) {
      const bit = h & 511;
      const word = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      if (set) bits[word]! |= mask;
      else if ((bits[word]! & mask) === 0) return false;
      h = (h >>> 9) | (h << 23); // the next 9 bits (rotate): 32 bits give 7 positions with some reuse
      if (i === 2) h = Math.imul(h, 0x9e3779b1) ^ H1;
    }
    return true;
  }
}

/** Bits set per key. */
const K = 7;

// hash2's results: module variables rather than a returned pair, which allocated on every call.
let H1 = 0;
let H2 = 0;

/** Two independent 32-bit FNV-1a style hashes of a ‖ b, into H1 (the block) and H2 (bits within it). */
function hash2(a: Uint8Array, b?: Uint8Array): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < a.length; i++) {
    h1 = Math.imul(h1 ^ a[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ a[i]!, 0x5bd1e995);
  }
  if (b !== undefined) {
    for (let i = 0; i < b.length; i++) {
      h1 = Math.imul(h1 ^ b[i]!, 0x01000193);
      h2 = Math.imul(h2 ^ b[i]!, 0x5bd1e995);
    }
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  H1 = h1 >>> 0;
  H2 = h2 | 0;
}
