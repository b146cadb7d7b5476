import { RemError } from "../errors.js";
import { HASH_MODEL, HASH_PROVIDER_NAME, LocalHashProvider } from "./local-hash.js";
import { openAIEnvOptions, openAIProviderName, OpenAIProvider } from "./openai.js";
import type { EmbeddingProvider } from "./provider.js";

/** The spec forms resolveProvider accepts, for messages and help text. */
export const SUPPORTED_PROVIDER_SPECS = [
  "local:hash-384",
  "openai:<model>[?dimensions=N]",
  "default (REM_DEFAULT_EMBEDDING, else local:hash-384)",
] as const;

/** The provider used when neither the caller nor REM_DEFAULT_EMBEDDING names one. */
export const DEFAULT_PROVIDER_SPEC = HASH_PROVIDER_NAME;

export type ProviderSpec =
  | { readonly kind: "local-hash"; readonly name: string; readonly model: string }
  | { readonly kind: "openai"; readonly name: string; readonly model: string; readonly dimensions: number | undefined };

// Environment variables an openai: provider reads; part of the cache key.
const OPENAI_ENV = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "REM_EMBED_BATCH", "REM_EMBED_CONCURRENCY", "REM_EMBED_RETRIES"] as const;

function unknown(spec: string, why: string, from?: string): RemError {
  const source = from === undefined ? "" : ` (from ${from})`;
  return new RemError(
    "REM_ERR_EMBEDDING_UNKNOWN_PROVIDER",
    `unknown embedding provider ${JSON.stringify(spec)}${source}: ${why}; supported: ${SUPPORTED_PROVIDER_SPECS.join(", ")}`,
    { spec },
  );
}

/**
 * Parses and normalises a concrete provider spec (not "default"), without
 * creating anything: "local:hash-384" or "openai:<model>[?dimensions=N]".
 * The scheme is case-insensitive; model names are kept as written.
 * Throws REM_ERR_EMBEDDING_UNKNOWN_PROVIDER listing the supported forms.
 */
export function parseProviderSpec(spec: string, from?: string): ProviderSpec {
  const s = spec.trim();
  const colon = s.indexOf(":");
  const scheme = colon < 0 ? "" : s.slice(0, colon).toLowerCase();
  const rest = s.slice(colon + 1);
  if (scheme === "local") {
    if (rest.toLowerCase() === HASH_MODEL) return { kind: "local-hash", name: HASH_PROVIDER_NAME, model: HASH_MODEL };
    throw unknown(spec, `the only local model is ${HASH_MODEL}`, from);
  }
  if (scheme === "openai") {
    const q = rest.indexOf("?");
    const model = (q < 0 ? rest : rest.slice(0, q)).trim();
    if (model === "" || /\s/.test(model)) throw unknown(spec, "openai: needs a model name without spaces", from);
    let dimensions: number | undefined;
    if (q >= 0) {
      const params = new URLSearchParams(rest.slice(q + 1));
      for (const [key, value] of params) {
        if (key !== "dimensions") throw unknown(spec, `unknown option ${JSON.stringify(key)} (only dimensions=N)`, from);
        if (!/^\d+$/.test(value) || Number(value) < 1) throw unknown(spec, `dimensions must be a positive integer, got ${JSON.stringify(value)}`, from);
        dimensions = Number(value);
      }
    }
    return { kind: "openai", name: openAIProviderName(model, dimensions), model, dimensions };
  }
  throw unknown(spec, colon < 0 ? "no scheme" : `no provider scheme ${JSON.stringify(scheme)}`, from);
}

const cache = new Map<string, EmbeddingProvider>();

/**
 * The provider for `spec`: "local:hash-384"; "openai:<model>[?dimensions=N]";
 * "default", "", null or undefined → `env.REM_DEFAULT_EMBEDDING`, else
 * local:hash-384. Anything else → REM_ERR_EMBEDDING_UNKNOWN_PROVIDER listing
 * what is supported.
 *
 * Providers are cached per normalised spec and the environment variables they
 * read (OPENAI_API_KEY, OPENAI_BASE_URL, REM_EMBED_*): repeated calls return
 * the same instance, so they share one HTTP client and one concurrency budget.
 * A provider that cannot be made (e.g. no credentials) throws and is not cached.
 */
export function resolveProvider(spec: string | null | undefined, env: NodeJS.ProcessEnv = process.env): EmbeddingProvider {
  let concrete = spec?.trim() ?? "";
  let from: string | undefined;
  if (concrete === "" || concrete.toLowerCase() === "default") {
    const configured = env.REM_DEFAULT_EMBEDDING?.trim() ?? "";
    // "default" as the default would loop; it means the built-in one there.
    if (configured === "" || configured.toLowerCase() === "default") concrete = DEFAULT_PROVIDER_SPEC;
    else {
      concrete = configured;
      from = "REM_DEFAULT_EMBEDDING";
    }
  }
  const parsed = parseProviderSpec(concrete, from);
  const key = parsed.kind === "openai" ? `${parsed.name}\0${JSON.stringify(OPENAI_ENV.map((name) => env[name] ?? null))}` : parsed.name;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const provider =
    parsed.kind === "local-hash"
      ? new LocalHashProvider()
      : new OpenAIProvider({ ...openAIEnvOptions(env), model: parsed.model, dimensions: parsed.dimensions });
  cache.set(key, provider);
  return provider;
}

/** Forgets every cached provider (tests; after rotating credentials in-process). */
export function clearProviderCache(): void {
  cache.clear();
}
