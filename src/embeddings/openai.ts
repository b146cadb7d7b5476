import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from "openai";
import { RemError } from "../errors.js";
import { Limiter } from "./limiter.js";
import { parseEmbeddingResponse } from "./openai-response.js";
import { assertEmbeddable, type EmbeddingProvider, type EmbedOptions } from "./provider.js";
import { backoffDelay, retryAfterMs, sleep, type RetryPolicy } from "./retry.js";

export const DEFAULT_BATCH_SIZE = 256;
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 30_000;
/** Per request. Generous: a CPU-only local server can take a while over 256 long texts. */
export const DEFAULT_TIMEOUT_MS = 120_000;
export const OPENAI_BASE_URL = "https://api.openai.com/v1";
/** Sent when a base URL is set but no key: local servers usually check none, yet the header must exist. */
export const PLACEHOLDER_API_KEY = "no-key";

export interface OpenAIProviderOptions {
  /** Model name sent to the server and recorded in embedding events. */
  readonly model: string;
  /** Passed as `dimensions` (models that can shorten their vectors, e.g. text-embedding-3-*). */
  readonly dimensions?: number | undefined;
  /** Defaults to PLACEHOLDER_API_KEY when `baseURL` is set; required otherwise. */
  readonly apiKey?: string | undefined;
  /** An OpenAI-compatible server's API root, e.g. "http://127.0.0.1:8000/v1"; default OpenAI's. */
  readonly baseURL?: string | undefined;
  /** Texts per request (default 256). */
  readonly batchSize?: number | undefined;
  /** Requests in flight at once across all calls on this provider (default 4). */
  readonly concurrency?: number | undefined;
  /** Attempts per request, the first included (default 5). */
  readonly maxAttempts?: number | undefined;
  /** First retry delay, doubled each retry, with jitter (default 500 ms). */
  readonly baseDelayMs?: number | undefined;
  /** Ceiling of the backoff delay (default 30 s); a server's Retry-After is honoured beyond it. */
  readonly maxDelayMs?: number | undefined;
  /** Per-request timeout; a timed-out request counts as a network error and is retried (default 120 s). */
  readonly timeoutMs?: number | undefined;
}

/** The provider name for a model and optional dimensions: "openai:<model>[?dimensions=N]". */
export function openAIProviderName(model: string, dimensions?: number): string {
  return `openai:${model}${dimensions === undefined ? "" : `?dimensions=${dimensions}`}`;
}

/**
 * Reads the provider settings that come from the environment: OPENAI_API_KEY,
 * OPENAI_BASE_URL, REM_EMBED_BATCH, REM_EMBED_CONCURRENCY and REM_EMBED_RETRIES
 * (attempts per request). Malformed numbers are refused with
 * REM_ERR_INVALID_ARGUMENT rather than silently replaced by defaults.
 */
export function openAIEnvOptions(env: NodeJS.ProcessEnv): Omit<OpenAIProviderOptions, "model" | "dimensions"> {
  return {
    apiKey: nonEmpty(env.OPENAI_API_KEY),
    baseURL: nonEmpty(env.OPENAI_BASE_URL),
    batchSize: positiveIntEnv(env, "REM_EMBED_BATCH"),
    concurrency: positiveIntEnv(env, "REM_EMBED_CONCURRENCY"),
    maxAttempts: positiveIntEnv(env, "REM_EMBED_RETRIES"),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function positiveIntEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `${name} must be a positive integer, got ${JSON.stringify(env[name])}`, { field: name });
  }
  return Number(raw);
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `${name} must be a positive integer, got ${value}`, { field: name });
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new RemError("REM_ERR_INVALID_ARGUMENT", `${name} must be a non-negative number, got ${value}`, { field: name });
  }
  return value;
}

/**
 * `openai:<model>`: embeddings from OpenAI or any server speaking its API
 * (vLLM, Ollama, TEI…), through the `openai` package.
 *
 * Guarantees:
 * - vectors come back in input order (placed by each item's `index`), one per
 *   text, all of one length; a response that breaks this, or holds anything
 *   but finite numbers, fails with REM_ERR_EMBEDDING_PROVIDER saying what was
 *   wrong. `dim` is null until the first successful call, then fixed: a later
 *   response of another length is refused the same way.
 * - texts go in batches of `batchSize`, with at most `concurrency` requests in
 *   flight over all calls on this provider.
 * - 429, 408, 5xx, network errors and timeouts are retried with exponential
 *   backoff and jitter (Retry-After honoured), up to `maxAttempts` attempts per
 *   request; any other status (400, 401, 403, 404…) fails at once with the
 *   server's message. The SDK's own retries are off: one policy, here.
 * - one failed batch fails the call and cancels its other requests. Aborting
 *   `signal` cancels everything and rejects with the signal's reason.
 */
export class OpenAIProvider implements EmbeddingProvider {
  readonly name: string;
  readonly model: string;
  readonly dimensions: number | undefined;
  readonly baseURL: string;
  readonly batchSize: number;
  readonly #client: OpenAI;
  readonly #limiter: Limiter;
  readonly #retry: RetryPolicy;
  #dim: number | null = null;

  constructor(options: OpenAIProviderOptions) {
    const model = options.model.trim();
    if (model === "") throw new RemError("REM_ERR_EMBEDDING_UNKNOWN_PROVIDER", "openai: provider needs a model name, e.g. openai:text-embedding-3-small");
    this.model = model;
    this.dimensions = options.dimensions === undefined ? undefined : positiveInt("dimensions", options.dimensions, 1);
    this.name = openAIProviderName(model, options.dimensions);
    const explicitBase = nonEmpty(options.baseURL);
    let apiKey = nonEmpty(options.apiKey);
    if (apiKey === undefined) {
      if (explicitBase === undefined) {
        throw new RemError(
          "REM_ERR_EMBEDDING_PROVIDER",
          `${this.name} needs credentials: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL to use an ` +
            "OpenAI-compatible server (vLLM, Ollama, TEI…), or choose the local:hash-384 provider",
          { provider: this.name },
        );
      }
      apiKey = PLACEHOLDER_API_KEY;
    }
    this.baseURL = explicitBase ?? OPENAI_BASE_URL;
    this.batchSize = positiveInt("batchSize", options.batchSize, DEFAULT_BATCH_SIZE);
    this.#limiter = new Limiter(positiveInt("concurrency", options.concurrency, DEFAULT_CONCURRENCY));
    this.#retry = {
      maxAttempts: positiveInt("maxAttempts", options.maxAttempts, DEFAULT_MAX_ATTEMPTS),
      baseDelayMs: nonNegative("baseDelayMs", options.baseDelayMs, DEFAULT_BASE_DELAY_MS),
      maxDelayMs: nonNegative("maxDelayMs", options.maxDelayMs, DEFAULT_MAX_DELAY_MS),
    };
    this.#client = new OpenAI({
      apiKey,
      baseURL: this.baseURL,
      // Everything explicit: the SDK would otherwise read these from process.env on its own.
      adminAPIKey: null,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: positiveInt("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS),
    });
  }

  get dim(): number | null {
    return this.#dim;
  }

  /** Requests in flight now (for tests and metrics). */
  get inFlight(): number {
    return this.#limiter.active;
  }

  async embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]> {
    assertEmbeddable(texts);
    const outer = options?.signal;
    outer?.throwIfAborted();
    if (texts.length === 0) return [];
    const out = new Array<Float32Array>(texts.length);
    const batches = Math.ceil(texts.length / this.batchSize);
    // One controller per call: the first failure cancels the call's other requests.
    const call = new AbortController();
    const onOuterAbort = (): void => call.abort(outer!.reason);
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    // In an object: TypeScript would otherwise keep a `let` narrowed to null across the awaits.
    const state: { failure: { error: unknown } | null; next: number } = { failure: null, next: 0 };
    const worker = async (): Promise<void> => {
      while (state.failure === null && state.next < batches) {
        const start = state.next++ * this.batchSize;
        const batch = texts.slice(start, start + this.batchSize);
        try {
          const vectors = await this.#embedBatch(batch, start, call.signal);
          for (let i = 0; i < vectors.length; i++) out[start + i] = vectors[i]!;
        } catch (error) {
          if (state.failure === null) {
            state.failure = { error };
            call.abort(error);
          }
          return;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.#limiter.max, batches) }, worker));
    } finally {
      outer?.removeEventListener("abort", onOuterAbort);
    }
    if (state.failure !== null) throw state.failure.error;
    return out;
  }

  /** One request with its retries. `offset` is the batch's first index in the call, for messages. */
  async #embedBatch(batch: string[], offset: number, signal: AbortSignal): Promise<Float32Array[]> {
    for (let attempt = 1; ; attempt++) {
      let response: unknown;
      const release = await this.#limiter.acquire(signal);
      try {
        response = await this.#client.embeddings.create(
          {
            model: this.model,
            input: batch,
            encoding_format: "float",
            ...(this.dimensions === undefined ? {} : { dimensions: this.dimensions }),
          },
          { signal },
        );
      } catch (err) {
        release();
        if (signal.aborted) throw signal.reason;
        const verdict = classify(err);
        const details = { provider: this.name, baseURL: this.baseURL, status: verdict.status, attempts: attempt, offset };
        if (!verdict.retry) {
          throw new RemError("REM_ERR_EMBEDDING_PROVIDER", `${this.#where()} failed: ${verdict.message}`, details, { cause: err });
        }
        if (attempt >= this.#retry.maxAttempts) {
          throw new RemError(
            "REM_ERR_EMBEDDING_PROVIDER",
            `${this.#where()} failed after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${verdict.message}`,
            details,
            { cause: err },
          );
        }
        await sleep(verdict.retryAfterMs ?? backoffDelay(attempt, this.#retry), signal);
        continue;
      }
      release();
      return this.#accept(response, batch.length, offset);
    }
  }

  /** Validates a response; fixes `dim` on the first one. */
  #accept(response: unknown, inputs: number, offset: number): Float32Array[] {
    const expected = this.#dim ?? this.dimensions ?? null;
    const parsed = parseEmbeddingResponse(response, inputs, expected);
    if (!parsed.ok) {
      throw new RemError("REM_ERR_EMBEDDING_PROVIDER", `${this.#where()} returned a malformed response: ${parsed.problem}`, {
        provider: this.name,
        baseURL: this.baseURL,
        offset,
      });
    }
    this.#dim ??= parsed.vectors[0]!.length;
    return parsed.vectors;
  }

  #where(): string {
    return `embedding request to ${this.baseURL} (model ${this.model})`;
  }
}

interface Verdict {
  readonly retry: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | null;
  readonly message: string;
}

/** Which failures are worth another attempt: throttling, server trouble, the network. */
function classify(err: unknown): Verdict {
  if (err instanceof APIConnectionError) {
    // Includes timeouts (APIConnectionTimeoutError). The SDK's message is generic; the cause says more.
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return { retry: true, status: undefined, retryAfterMs: null, message: `${err.message}${cause}` };
  }
  if (err instanceof APIError && !(err instanceof APIUserAbortError) && typeof err.status === "number") {
    const status = err.status;
    const retry = status === 429 || status === 408 || status >= 500;
    // The SDK prefixes the status; say it once, plainly.
    const server = err.message.replace(/^\d{3}\s*/, "");
    return { retry, status, retryAfterMs: retry ? retryAfterMs(err.headers) : null, message: `HTTP ${status}: ${server}` };
  }
  return { retry: false, status: undefined, retryAfterMs: null, message: err instanceof Error ? err.message : String(err) };
}
