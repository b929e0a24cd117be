import type { Embedder } from '../../core/ports/embedder.ts';

/** Wraps an embedder and records the texts of every call that reaches it. */
export function countingEmbedder(inner: Embedder): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    id: inner.id,
    dimension: inner.dimension,
    calls,
    embed(texts, options) {
      calls.push([...texts]);
      return inner.embed(texts, options);
    },
  };
}
