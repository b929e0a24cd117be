import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../infra/config.ts';
import { createLocalEmbedder } from '../../infra/local/local-model.ts';
import { summarizeMs } from '../bench-kit.ts';

/**
 * What query-side embedding costs a search: each question embedded alone, as
 * a query (e5's `query: ` prefix), by the local model the product's
 * configuration picks (e5 by default, MiniLM with `EMBEDDER=minilm`) on one
 * thread of this process, as a search does with the query-vector cache off,
 * after a warm-up. Null when the product was told to use a remote embedder.
 */
export async function measureQueryEmbedding(questions: string[], env: Record<string, string> = {}) {
  const config = loadConfig({ DATA_DIR: '.data', ...env });
  const kind = config.embedderKind;
  if (kind !== 'e5' && kind !== 'minilm') return null;
  const model = await createLocalEmbedder({
    model: kind,
    dir: kind === 'e5' ? config.E5_MODEL_DIR : config.MINILM_MODEL_DIR,
    threads: 1,
  });
  try {
    for (const q of questions.slice(0, 20)) await model.embed([q], { kind: 'query' });
    const ms: number[] = [];
    for (const q of questions) {
      const started = performance.now();
      await model.embed([q], { kind: 'query' });
      ms.push(performance.now() - started);
    }
    return { embedder: model.id, threads: 1, ...summarizeMs(ms) };
  } finally {
    await model.close();
  }
}
