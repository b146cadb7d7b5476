import type { EmbeddingProvider, EmbedOptions } from "../../src/embeddings/provider.js";

/** A provider that counts what reaches it, to prove a code path never embeds. */
export interface CountingProvider extends EmbeddingProvider {
  /** embed() calls so far, failed ones included. */
  readonly calls: number;
  /** Texts passed to embed() so far. */
  readonly texts: number;
  /** Sets both counters back to 0. */
  reset(): void;
}

/** Wraps `inner`, delegating everything and counting embed() calls and texts. */
export function countingProvider(inner: EmbeddingProvider): CountingProvider {
  let calls = 0;
  let texts = 0;
  return {
    get name() {
      return inner.name;
    },
    get model() {
      return inner.model;
    },
    // A getter: a remote provider's dim is only known after its first call.
    get dim() {
      return inner.dim;
    },
    get calls() {
      return calls;
    },
    get texts() {
      return texts;
    },
    reset() {
      calls = 0;
      texts = 0;
    },
    embed(input: readonly string[], options?: EmbedOptions) {
      calls++;
      texts += input.length;
      return inner.embed(input, options);
    },
  };
}
