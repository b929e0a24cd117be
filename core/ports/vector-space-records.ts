import type { Memory } from './memory-records.ts';

/** One embedding space: an embedder id and dimension, stored at `location`. */
export interface VectorSpaceRecord {
  id: string;
  dimension: number;
  /** The table (pgvector) or collection (Qdrant) holding the space's vectors. */
  location: string;
  state: 'building' | 'active' | 'retired';
  createdAt: Date;
  activatedAt: Date | null;
  /** When it stopped serving (state `retired`). */
  retiredAt: Date | null;
  /** When its table or collection was removed (a retired space nobody reads any more). */
  droppedAt: Date | null;
}

/** A memory as the re-embedding workflow pages through them (every user, by id), with its filter payload. */
export type MemoryForEmbedding = Pick<
  Memory,
  'id' | 'userId' | 'content' | 'tags' | 'metadata' | 'occurredAt' | 'state'
>;
