import type { InsertMemoryResult, Memory, NewMemory } from './memory-records.ts';

/** A memory's content as it was before a change replaced it. */
export interface MemoryRevision {
  memoryId: string;
  /** The revision this content had; the memory's revision is higher now. */
  revision: number;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  occurredAt: Date;
  /** When the next revision replaced it. */
  replacedAt: Date;
}

/** New content for a memory, decided from what it said at `revision`. */
export interface MemoryRevisionUpdate {
  memoryId: string;
  /** The revision the change was decided on: a memory edited since is left alone. */
  revision: number;
  content: string;
  /** When the new content's event happened; default: the time of the change. */
  occurredAt?: Date;
}

/** Memories to add and memories to revise, for one user, applied together. */
export interface MemoryChanges {
  inserts: readonly NewMemory[];
  updates: readonly MemoryRevisionUpdate[];
}

/** What became of one {@link MemoryRevisionUpdate}. */
export type MemoryUpdateOutcome =
  /** Revised; the content it replaced is kept as `previous`. */
  | { kind: 'updated'; memory: Memory; previous: MemoryRevision }
  /** Left alone: the memory is gone, expired, archived or at another revision. */
  | { kind: 'changed' }
  /** Left alone: `memory` (the target itself, or another) already has this content. */
  | { kind: 'repeat'; memory: Memory };

export interface MemoryChangesResult {
  /** One per insert, in order (`created: false` for content the user already had). */
  inserted: InsertMemoryResult[];
  /** One per update, in order. */
  updated: MemoryUpdateOutcome[];
}
