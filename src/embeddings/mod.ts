/**
 * Embedding providers: text in, vectors out. Pick one with resolveProvider
 * ("local:hash-384", "openai:<model>[?dimensions=N]", "default").
 */
export { assertEmbeddable, type EmbeddingProvider, type EmbedOptions } from "./provider.js";
export { HASH_DIM, HASH_MODEL, HASH_PROVIDER_NAME, LocalHashProvider } from "./local-hash.js";
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_ATTEMPTS,
  OpenAIProvider,
  openAIEnvOptions,
  openAIProviderName,
  type OpenAIProviderOptions,
} from "./openai.js";
export {
  clearProviderCache,
  DEFAULT_PROVIDER_SPEC,
  parseProviderSpec,
  resolveProvider,
  SUPPORTED_PROVIDER_SPECS,
  type ProviderSpec,
} from "./registry.js";
