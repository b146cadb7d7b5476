import { assertEmbeddable, type EmbeddingProvider, type EmbedOptions } from "./provider.js";

/** Vector length of the local hashing embedder. */
export const HASH_DIM = 384;
export const HASH_MODEL = `hash-${HASH_DIM}`;
export const HASH_PROVIDER_NAME = `local:${HASH_MODEL}`;

/*
 * Feature weights: whole words carry the meaning a lexical model can see,
 * bigrams add word order, character 3-grams let "embedding" and "embeddings"
 * meet. A word yields about as many 3-grams as it has letters, so they get
 * the smallest weight or they would drown the words.
 */
const WORD_WEIGHT = 1.0;
const BIGRAM_WEIGHT = 0.7;
const TRIGRAM_WEIGHT = 0.3;

// Distinct seeds keep a word, a bigram and a 3-gram with equal code points apart.
const WORD_SEED = 0x9747b28c;
const BIGRAM_SEED = 0x5bd1e995;
const TRIGRAM_SEED = 0x27d4eb2f;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Word boundary markers for 3-grams: control characters, never part of a token.
const BOW = 0x02;
const EOW = 0x03;

/** murmur3's 32-bit finaliser: spreads FNV's weak low bits over all 32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TOKEN_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
/** Token-character flags for the BMP, built on first non-ASCII text (64 KiB, a few ms). */
let bmpTokenChars: Uint8Array | null = null;

function isTokenChar(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39); // text is lowercased already
  if (cp <= 0xffff) {
    if (bmpTokenChars === null) {
      bmpTokenChars = new Uint8Array(0x10000);
      for (let c = 0x80; c <= 0xffff; c++) bmpTokenChars[c] = TOKEN_CHAR.test(String.fromCharCode(c)) ? 1 : 0;
    }
    return bmpTokenChars[cp] === 1;
  }
  return TOKEN_CHAR.test(String.fromCodePoint(cp));
}

/**
 * Term counts of one text: an open-addressing hash table in typed arrays,
 * keyed by (feature hash, kind). A Map was 3× slower here: hashes above 2^30
 * are heap numbers in V8, one allocation per lookup.
 */
class FeatureCounts {
  #mask = 0;
  #keys = new Int32Array(0);
  #kinds = new Uint8Array(0);
  #counts = new Int32Array(0);
  /** Slots in first-insertion order: summing in a fixed order keeps the floats bitwise stable. */
  #order = new Int32Array(0);
  size = 0;

  /** Empties the table, sized for up to `features` distinct features. */
  reset(features: number): void {
    let cap = 64;
    while (cap < features * 2) cap *= 2;
    if (cap > this.#keys.length) {
      this.#keys = new Int32Array(cap);
      this.#kinds = new Uint8Array(cap);
      this.#counts = new Int32Array(cap);
      this.#order = new Int32Array(cap >> 1);
      this.#mask = cap - 1;
    } else {
      // Only the used slots need clearing: a count of 0 marks a free slot.
      for (let i = 0; i < this.size; i++) this.#counts[this.#order[i]!] = 0;
    }
    this.size = 0;
  }

  add(hash: number, kind: number): void {
    const key = hash | 0; // stored as int32
    const keys = this.#keys;
    const counts = this.#counts;
    let slot = key & this.#mask;
    for (;;) {
      if (counts[slot] === 0) {
        keys[slot] = key;
        this.#kinds[slot] = kind;
        counts[slot] = 1;
        this.#order[this.size++] = slot;
        return;
      }
      if (keys[slot] === key && this.#kinds[slot] === kind) {
        counts[slot]!++;
        return;
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  /** Adds each feature into `acc`: bucket and sign from its hash, weight of its kind × √tf. */
  addTo(acc: Float64Array): void {
    for (let i = 0; i < this.size; i++) {
      const slot = this.#order[i]!;
      const key = this.#keys[slot]! >>> 0;
      // The bucket is key mod 384, which fixes its low 7 bits; the sign comes from the
      // top bit of a second multiplicative hash so that it is independent of the bucket.
      const sign = Math.imul(key, 0x9e3779b1) < 0 ? -1 : 1;
      // √ rather than log for sublinear tf: IEEE 754 rounds sqrt exactly on every platform.
      acc[key % HASH_DIM]! += sign * WEIGHTS[this.#kinds[slot]!]! * Math.sqrt(this.#counts[slot]!);
    }
  }
}

const WORD = 0;
const BIGRAM = 1;
const TRIGRAM = 2;
const WEIGHTS = [WORD_WEIGHT, BIGRAM_WEIGHT, TRIGRAM_WEIGHT];

/**
 * Scratch space reused across texts (an embedder runs on one thread): the
 * text's token code points back to back, where each token starts and ends,
 * and the feature counts.
 */
class Scratch {
  cps = new Int32Array(4096);
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  wordHashes = new Int32Array(1024);
  readonly features = new FeatureCounts();
  readonly acc = new Float64Array(HASH_DIM);

  ensure(cps: number, tokens: number): void {
    if (cps > this.cps.length) this.cps = new Int32Array(Math.max(cps, this.cps.length * 2));
    if (tokens > this.starts.length) {
      const size = Math.max(tokens, this.starts.length * 2);
      this.starts = new Int32Array(size);
      this.ends = new Int32Array(size);
      this.wordHashes = new Int32Array(size);
    }
  }
}

/**
 * Splits `text` into tokens: runs of Unicode letters, marks and digits. A text
 * with none (only punctuation or emoji) falls back to its whitespace-separated
 * chunks, so every non-blank text has at least one feature.
 * Returns the number of tokens; their code points are in `s.cps`.
 */
function tokenize(text: string, s: Scratch, isChar: (cp: number) => boolean): number {
  // A text has at most text.length code points and text.length / 2 + 1 tokens.
  s.ensure(text.length, (text.length >> 1) + 1);
  const { cps, starts, ends } = s;
  let n = 0;
  let tokens = 0;
  let inToken = false;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    if (isChar(cp)) {
      if (!inToken) {
        starts[tokens] = n;
        inToken = true;
      }
      cps[n++] = cp;
    } else if (inToken) {
      ends[tokens++] = n;
      inToken = false;
    }
  }
  if (inToken) ends[tokens++] = n;
  return tokens;
}

const isNotSpace = (cp: number): boolean => !/^\s$/u.test(String.fromCodePoint(cp));

function embedOne(text: string, s: Scratch): Float32Array {
  // NFKC so that composed and decomposed forms (and full-width letters) embed alike.
  const norm = text.normalize("NFKC").toLowerCase();
  let tokens = tokenize(norm, s, isTokenChar);
  if (tokens === 0) tokens = tokenize(norm, s, isNotSpace);
  const { cps, starts, ends, wordHashes, features, acc } = s;
  // Distinct features: at most one per token, one per bigram, one per code point (3-grams).
  features.reset(2 * tokens + (tokens > 0 ? ends[tokens - 1]! : 0));
  for (let t = 0; t < tokens; t++) {
    const start = starts[t]!;
    const end = ends[t]!;
    let h = FNV_OFFSET ^ WORD_SEED;
    for (let i = start; i < end; i++) h = Math.imul(h ^ cps[i]!, FNV_PRIME);
    const word = fmix32(h);
    wordHashes[t] = word;
    features.add(word, WORD);
    // Character 3-grams over BOW + word + EOW: a word of L code points gives L of them.
    let a = BOW;
    let b = cps[start]!;
    for (let i = start + 1; i <= end; i++) {
      const c = i < end ? cps[i]! : EOW;
      let g = FNV_OFFSET ^ TRIGRAM_SEED;
      g = Math.imul(g ^ a, FNV_PRIME);
      g = Math.imul(g ^ b, FNV_PRIME);
      g = Math.imul(g ^ c, FNV_PRIME);
      features.add(fmix32(g), TRIGRAM);
      a = b;
      b = c;
    }
  }
  for (let t = 1; t < tokens; t++) {
    // Multiplying the first hash makes the pair ordered: "new york" ≠ "york new".
    features.add(fmix32(Math.imul(wordHashes[t - 1]!, 0x85ebca77) ^ wordHashes[t]! ^ BIGRAM_SEED), BIGRAM);
  }
  acc.fill(0);
  features.addTo(acc);
  let sum = 0;
  for (let i = 0; i < HASH_DIM; i++) sum += acc[i]! * acc[i]!;
  const out = new Float32Array(HASH_DIM);
  if (sum === 0) {
    // Only if every feature cancelled out exactly; a fixed unit vector keeps the norm promise.
    out[0] = 1;
    return out;
  }
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < HASH_DIM; i++) out[i] = acc[i]! * inv;
  return out;
}

/**
 * `local:hash-384`: a lexical embedder by feature hashing. It needs no network
 * and no model: it hashes lowercase word tokens (runs of Unicode letters, marks
 * and digits, after NFKC), word bigrams and character 3-grams of each word
 * (with boundary markers) into 384 signed buckets, weights them (words >
 * bigrams > 3-grams, √ of the term frequency), and L2-normalises the result.
 *
 * It is LEXICAL, NOT SEMANTIC: texts score as similar when they share words
 * or word fragments; synonyms and paraphrases with different words do not
 * meet. Use a model provider (e.g. `openai:…`) for meaning.
 *
 * Guarantees: every vector has 384 components and unit L2 norm (to float32
 * precision); the same text gives a bitwise identical vector on every machine
 * and every run (only integer hashing, +, ×, ÷ and √ are used, all exact or
 * correctly rounded in IEEE 754), given the same Unicode tables for NFKC,
 * lowercasing and letter classes, which only differ for characters assigned
 * in a newer Unicode version than the runtime knows.
 */
export class LocalHashProvider implements EmbeddingProvider {
  readonly name = HASH_PROVIDER_NAME;
  readonly model = HASH_MODEL;
  readonly dim = HASH_DIM;
  readonly #scratch = new Scratch();

  /** Synchronous form of `embed`, for callers that need no promise. */
  embedSync(texts: readonly string[]): Float32Array[] {
    assertEmbeddable(texts);
    const out = new Array<Float32Array>(texts.length);
    for (let i = 0; i < texts.length; i++) out[i] = embedOne(texts[i]!, this.#scratch);
    return out;
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]> {
    options?.signal?.throwIfAborted();
    return this.embedSync(texts);
  }
}
