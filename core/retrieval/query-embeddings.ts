import type { TieredCache } from '../cache/tiered-cache.ts';
import type { Embedder } from '../ports/embedder.ts';

/**
 * The query side of an embedding space, through a cache of vectors by text.
 * Assistants ask the same short questions again and again, and across users
 * ("where do I work?"): a cached vector saves a model round trip (Gemini) or
 * a few milliseconds of CPU (the local model) per query. Keys carry the space
 * id, so a vector never serves a query of another space. Cached vectors are
 * shared: callers must not change them.
 */
export function cachingQueryEmbedder(
  inner: Embedder,
  spaceId: string,
  cache: TieredCache<number[]>,
): Embedder {
  const keyOf = (text: string) => `${spaceId}\u0000${text}`;
  return {
    id: inner.id,
    dimension: inner.dimension,
    async embed(texts) {
      const found = await Promise.all(texts.map((t) => cache.get(keyOf(t))));
      const missing = [...new Set(texts.filter((_, i) => !found[i]!.value))];
      const fresh = new Map<string, number[]>();
      if (missing.length > 0) {
        const vectors = await inner.embed(missing);
        missing.forEach((text, i) => {
          fresh.set(text, vectors[i]!);
          cache.set(keyOf(text), vectors[i]!);
        });
      }
      return texts.map((t, i) => found[i]!.value ?? fresh.get(t)!);
    },
  };
}
