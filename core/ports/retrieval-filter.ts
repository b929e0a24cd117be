import type { MemoryState } from './memory-records.ts';

/** A metadata value a filter can match: JSON's scalars, without null. */
export type FilterScalar = string | number | boolean;

/**
 * Which memories a search, a context or a vector query may return. Every
 * given part narrows: a memory passes when it passes each one. The same
 * filter means the same on every store (relational, pgvector, Qdrant), which
 * the vector-index contract suite checks.
 */
export interface RetrievalFilter {
  /**
   * Per top-level metadata key, the values it may hold: a memory passes when
   * its value under each key equals one of them (a one-value list is plain
   * equality). Equality is typed (`1` is not `"1"`), and a key holding an
   * object, an array or null never matches.
   */
  metadata?: Readonly<Record<string, readonly FilterScalar[]>>;
  /** Memories carrying every one of these tags. */
  tagsAll?: readonly string[];
  /** Memories carrying at least one of these tags. */
  tagsAny?: readonly string[];
  /** Memories whose event happened at or after this time. */
  from?: Date;
  /** Memories whose event happened before this time. */
  to?: Date;
  /** Only memories in this state; any state when absent (services default to `active`). */
  state?: MemoryState;
}
