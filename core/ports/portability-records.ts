import type { IndexState, MemoryState } from './memory-records.ts';

/**
 * A memory as an export writes it: every stored field of its newest
 * revision (vectors and graph entries are derived, so they are left out),
 * times as ISO 8601 strings in UTC with the database's microseconds, so an
 * import gives back exactly the same times.
 */
export interface ExportedMemory {
  id: string;
  externalId: string | null;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  state: MemoryState;
  indexState: IndexState;
  revision: number;
  createdAt: string;
  updatedAt: string;
  occurredAt: string;
  expiresAt: string | null;
}

/** Where an export page ended: the next page starts after this memory. */
export interface ExportCursor {
  createdAt: string;
  id: string;
}

/**
 * A memory an import brings in, validated by the rules of a save. Times are
 * ISO 8601 strings (kept as text so microseconds survive); null takes the
 * default: created now, updated when created, occurred when created, never
 * expires.
 */
export interface ImportedMemory {
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  state: MemoryState;
  /** The memory's id in the system it came from; unique per user when given. */
  externalId: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  occurredAt: string | null;
  expiresAt: string | null;
}

/** A valid line of an import file: its number (from 1) and the memory it holds. */
export interface ImportLine {
  line: number;
  memory: ImportedMemory;
}

/** A line an import refused, and why. */
export interface LineError {
  line: number;
  message: string;
}

/** What an import did with the lines it read. */
export interface ImportCounts {
  /** Non-empty lines read. */
  read: number;
  created: number;
  /** Memories the user already had (same `external_id`, or the same content). */
  duplicates: number;
  refused: number;
  /** Lines that are not memories (an export's narrative line). */
  ignored: number;
}

/**
 * `receiving`: lines are still arriving. `received`: every line was read
 * and what was accepted is stored. `refused`: an all-or-nothing import met a
 * bad line; nothing was stored. `interrupted`: the upload ended early (a
 * dropped connection, a dead process): what was acknowledged is stored,
 * and running the same file again completes it.
 */
export type ImportState = 'receiving' | 'received' | 'refused' | 'interrupted';

/** The indexing of an import's new memories by its workflow run. */
export interface ImportIndexing {
  state: 'pending' | 'running' | 'done';
  /** Memories the run has indexed (or found indexed, or gone). */
  indexed: number;
  /** Memories an index refused (marked `failed`). */
  failed: number;
  /** The run's workflow id; null until one was started (an import that created nothing has none). */
  workflowId: string | null;
}

/** One import of a user's memories, as its status shows it. */
export interface ImportRecord {
  id: string;
  userId: string;
  state: ImportState;
  allOrNothing: boolean;
  counts: ImportCounts;
  /** The first refused lines (at most {@link MAX_IMPORT_ERRORS}); `counts.refused` counts all. */
  errors: LineError[];
  indexing: ImportIndexing;
  createdAt: Date;
  updatedAt: Date;
  receivedAt: Date | null;
  indexedAt: Date | null;
}

/** Refused lines an import keeps to show; the rest are only counted. */
export const MAX_IMPORT_ERRORS = 100;

/** The lines of an upload read since the last batch, as one batch commits them. */
export interface ImportBatch {
  lines: ImportLine[];
  refused: LineError[];
  ignored: number;
  /** Non-empty lines read in this batch, of every kind. */
  read: number;
}

/** One of an import's memories still to index, by its line. */
export interface ImportedToIndex {
  line: number;
  memoryId: string;
}
