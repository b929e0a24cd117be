import type { Embedder } from './embedder.ts';
import type { VectorIndex } from './vector-index.ts';

/** An embedding space: vectors from one embedder, kept in one index. */
export interface VectorSpace {
  /** The embedder's id, such as `local:all-MiniLM-L6-v2@384`. */
  readonly id: string;
  readonly embedder: Embedder;
  readonly index: VectorIndex;
}

/**
 * The embedding spaces the engine reads and writes. Searches embed the
 * query with the serving space's embedder and search that space's index, so
 * spaces never mix; a new or edited memory goes to every space being kept up
 * to date (the serving one and one being rebuilt for a new embedder).
 */
export interface VectorSpaces {
  /** The space searches read; null while none can be read (vector retrieval is then skipped). */
  serving(): VectorSpace | null;
  /** The spaces a memory's vector is written to. */
  writing(): VectorSpace[];
  /** Every space's index: a deleted memory leaves all of them. */
  indexes(): VectorIndex[];
  /** The configured embedder's space: the one a rebuild fills. */
  target(): VectorSpace;
  /** Re-reads which space serves (after a rebuild finished, perhaps in another process). */
  refresh(): Promise<void>;
}

/** One space that serves and takes every write: no rebuild in progress. */
export function singleSpace(embedder: Embedder, index: VectorIndex): VectorSpaces {
  const space = { id: embedder.id, embedder, index };
  return {
    serving: () => space,
    writing: () => [space],
    indexes: () => [index],
    target: () => space,
    refresh: () => Promise.resolve(),
  };
}
