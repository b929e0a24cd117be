import type { TieredCache } from '../cache/tiered-cache.ts';
import { embedKind, type Embedder } from '../ports/embedder.ts';

/**
 * The query side of an embedding space, through a cache of vectors by text.
 * Assistants ask the same short questions again and again, and across users
 * ("where do I work?"): a cached vector saves a model round trip (Gemini) or
 * a few milliseconds of CPU (the local model) per query. Keys carry the space
 * id and the kind of text (a question and a passage of the same words are
 * different vectors to a model like e5), so a vector never serves a query of
 * another space or kind. Cached vectors are shared: callers must not change them.
 */
export function cachingQueryEmbedder(
  inner: Embedder,
  spaceId: string,
  cache: TieredCache<number[]>,
): Embedder {
  return {
    id: inner.id,
    dimension: inner.dimension,
    async embed(texts, options) {
      const kind = embedKind(options);
      const keyOf = (text: string) => `${spaceId}\u0000${kind}\u0000${text}`;
      const found = await Promise.all(texts.map((t) => cache.get(keyOf(t))));
      const missing = [...new Set(texts.filter((_, i) => !found[i]!.value))];
      const fresh = new Map<string, number[]>();
      if (missing.length > 0) {
        const vectors = await inner.embed(missing, { kind });
        missing.forEach((text, i) => {
          fresh.set(text, vectors[i]!);
          cache.set(keyOf(text), vectors[i]!);
        });
      }
      return texts.map((t, i) => found[i]!.value ?? fresh.get(t)!);
    },
  };
}
