import type { Embedder } from '../../core/ports/embedder.ts';
import type { LanguageModel } from '../../core/ports/language-model.ts';
import type { Config } from '../config.ts';
import { createGeminiEmbedder } from '../gemini/gemini-embedder.ts';
import { createGeminiLanguageModel } from '../gemini/gemini-language-model.ts';
import { createHashingEmbedder } from '../local/hashing-embedder.ts';

export interface ModelAdapters {
  /** Null when no model is configured: callers use their local fallbacks. */
  model: LanguageModel | null;
  embedder: Embedder;
  close(): Promise<void>;
}

type ModelSettings = Pick<
  Config,
  | 'GEMINI_API_KEY'
  | 'GEMINI_BASE_URL'
  | 'GEMINI_MODEL'
  | 'GEMINI_EMBEDDING_MODEL'
  | 'GEMINI_EMBEDDING_DIMENSION'
  | 'GEMINI_TIMEOUT_MS'
>;

/**
 * Gemini (Google's, or any endpoint at `GEMINI_BASE_URL` such as the
 * emulator) when configured; otherwise no model and the local embedder.
 */
export async function createModelAdapters(config: ModelSettings): Promise<ModelAdapters> {
  if (!config.GEMINI_API_KEY && !config.GEMINI_BASE_URL) {
    return {
      model: null,
      embedder: createHashingEmbedder({ dimension: 384 }),
      close: async () => {},
    };
  }
  const connection = {
    ...(config.GEMINI_API_KEY ? { apiKey: config.GEMINI_API_KEY } : {}),
    ...(config.GEMINI_BASE_URL ? { baseUrl: config.GEMINI_BASE_URL } : {}),
  };
  const model = await createGeminiLanguageModel({
    ...connection,
    model: config.GEMINI_MODEL,
    timeoutMs: config.GEMINI_TIMEOUT_MS,
  });
  const embedder = await createGeminiEmbedder({
    ...connection,
    model: config.GEMINI_EMBEDDING_MODEL,
    dimension: config.GEMINI_EMBEDDING_DIMENSION,
    timeoutMs: config.GEMINI_TIMEOUT_MS,
  });
  return {
    model,
    embedder,
    async close() {
      await Promise.all([model.close(), embedder.close()]);
    },
  };
}
