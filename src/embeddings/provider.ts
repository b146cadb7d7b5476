import { RemError } from "../errors.js";

export interface EmbedOptions {
  /** Aborts the call: pending requests are cancelled and the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * What every embedding provider implements. A provider turns texts into
 * vectors; it never sees events, tenants or indexes.
 */
export interface EmbeddingProvider {
  /** The spec it was made from, normalised, e.g. "local:hash-384" or "openai:text-embedding-3-small". */
  readonly name: string;
  /** The model name recorded in embedding events (e.g. "hash-384", "text-embedding-3-small"). */
  readonly model: string;
  /** Vector length when known in advance (local), else null until the first call (remote). */
  readonly dim: number | null;
  /**
   * Embeds texts in order; one Float32Array per text, all the same length. Batches internally.
   * Empty or whitespace-only text anywhere in the input fails the whole call with
   * REM_ERR_EMBEDDING_INVALID naming its index, before anything is sent.
   */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/**
 * Checks the input of `embed`: an array of strings, none empty or only
 * whitespace. Throws REM_ERR_EMBEDDING_INVALID naming the first bad index.
 */
export function assertEmbeddable(texts: readonly string[]): void {
  // Callers outside TypeScript can pass anything; a clear error beats a crash deep in a provider.
  if (!Array.isArray(texts)) {
    throw new RemError("REM_ERR_EMBEDDING_INVALID", "embed() takes an array of strings");
  }
  for (let i = 0; i < texts.length; i++) {
    const text: unknown = texts[i];
    if (typeof text !== "string") {
      throw new RemError("REM_ERR_EMBEDDING_INVALID", `text at index ${i} is not a string (${typeof text})`, { index: i });
    }
    if (text.trim() === "") {
      throw new RemError("REM_ERR_EMBEDDING_INVALID", `text at index ${i} is empty or only whitespace`, { index: i });
    }
  }
}
