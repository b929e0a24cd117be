import { performance } from 'node:perf_hooks';
import { DEFAULT_MINILM_DIR } from '../../infra/config.ts';
import { createMiniLmEmbedder } from '../../infra/local/minilm/minilm-embedder.ts';
import { summarizeMs } from '../bench-kit.ts';

/**
 * What query-side embedding costs a search: each question embedded alone by
 * the local model on one thread, as a search does (the query-vector cache
 * off), after a warm-up. Null when the product was told to use another
 * embedder.
 */
export async function measureQueryEmbedding(questions: string[], env: Record<string, string> = {}) {
  const embedder = env.EMBEDDER ?? 'auto';
  if (embedder !== 'auto' && embedder !== 'local') return null;
  if (embedder === 'auto' && env.GEMINI_API_KEY) return null;
  const model = await createMiniLmEmbedder({
    modelDir: env.MINILM_MODEL_DIR ?? DEFAULT_MINILM_DIR,
    threads: 1,
  });
  try {
    for (const q of questions.slice(0, 20)) await model.embed([q]);
    const ms: number[] = [];
    for (const q of questions) {
      const started = performance.now();
      await model.embed([q]);
      ms.push(performance.now() - started);
    }
    return { embedder: model.id, threads: 1, ...summarizeMs(ms) };
  } finally {
    await model.close();
  }
}
