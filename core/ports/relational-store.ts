/** A person whose assistant remembers things; every memory belongs to one. */
export interface User {
  id: string;
  name: string | null;
  /** Bumped by every change to the user's memories; caches key on it. */
  dataVersion: number;
  createdAt: Date;
  lastActiveAt: Date | null;
}

export type MemoryState = 'active' | 'archived';
export type IndexState = 'pending' | 'indexed' | 'failed';

export interface Memory {
  id: string;
  userId: string;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  state: MemoryState;
  indexState: IndexState;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewMemory {
  content: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
}

export interface InsertMemoryResult {
  memory: Memory;
  /** False when the user already had a memory with the same content. */
  created: boolean;
}

export interface ListMemoriesInput {
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface MemoryPage {
  items: Memory[];
  nextCursor: string | null;
}

/** A portrait of a user, written from their memories. */
export interface Narrative {
  userId: string;
  version: number;
  content: string;
  /** The user's data version the narrative was built from. */
  dataVersion: number;
  model: string;
  createdAt: Date;
}

export interface NewNarrative {
  content: string;
  dataVersion: number;
  model: string;
}

/** One end-to-end check of API, workflow engine, worker and store. */
export interface SelfCheck {
  id: string;
  workflowId: string;
  note: string;
  createdAt: Date;
}

/**
 * Port for the relational store: users, memories, narratives and the
 * bookkeeping the engine needs. Every memory operation is scoped by user id,
 * so no call can reach another user's rows. Adapters throw `AppError` with
 * code `dependency_unavailable` when the database cannot be reached.
 */
export interface RelationalStore {
  /** `pglite` (embedded) or `postgres` (a server over a pool). */
  readonly kind: 'pglite' | 'postgres';
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createUser(input: { name?: string | null }): Promise<User>;
  getUser(userId: string): Promise<User | null>;

  /** Stores a memory once per user and content; bumps the user's data version when new. */
  insertMemory(userId: string, memory: NewMemory): Promise<InsertMemoryResult>;
  getMemory(userId: string, memoryId: string): Promise<Memory | null>;
  /** Newest first, stable under concurrent inserts. */
  listMemories(userId: string, input: ListMemoriesInput): Promise<MemoryPage>;
  /** Deletes and bumps the user's data version; false when there was nothing to delete. */
  deleteMemory(userId: string, memoryId: string): Promise<boolean>;

  /** Adds the next version of the user's narrative. */
  saveNarrative(userId: string, narrative: NewNarrative): Promise<Narrative>;
  latestNarrative(userId: string): Promise<Narrative | null>;

  recordSelfCheck(input: { workflowId: string; note: string }): Promise<SelfCheck>;
  getSelfCheck(id: string): Promise<SelfCheck | null>;
}
