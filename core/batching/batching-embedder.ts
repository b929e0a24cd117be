import type { Embedder } from '../ports/embedder.ts';
import { createMicroBatcher, type MicroBatcherStats } from './micro-batcher.ts';

/**
 * An embedder that merges concurrent `embed` calls made within `windowMs`
 * into batched calls of the inner embedder (at most `maxBatch` texts each),
 * embedding identical texts once.
 */
export function createBatchingEmbedder(
  inner: Embedder,
  options: { windowMs: number; maxBatch: number },
): Embedder & { stats(): MicroBatcherStats } {
  const batcher = createMicroBatcher<string, number[]>({
    ...options,
    key: (text) => text,
    run: (texts) => inner.embed(texts),
  });
  return {
    id: inner.id,
    dimension: inner.dimension,
    embed: (texts) => Promise.all(texts.map((t) => batcher.submit(t))),
    stats: () => batcher.stats(),
  };
}
