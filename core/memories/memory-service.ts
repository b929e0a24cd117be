import { generateApiKey } from '../auth/api-keys.ts';
import { AppError } from '../errors.ts';
import type { IndexTarget } from '../indexing/indexer.ts';
import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type {
  ListMemoriesInput,
  Memory,
  MemoryPatch,
  NewMemory,
  RelationalStore,
} from '../ports/relational-store.ts';

export interface SaveResult {
  memory: Memory;
  created: boolean;
}

/** How long a memory may be kept at most when given a time to live: ten years. */
export const MAX_TTL_S = 10 * 365.25 * 24 * 3600;

/** Expiry as a client may give it: a time, or seconds from now (not both). */
export interface ExpiryInput {
  /** Seconds from now until the memory expires (1 to {@link MAX_TTL_S}). */
  ttlS?: number;
}

/** A memory to save, its expiry given as a time or a time to live. */
export type MemoryInput = NewMemory & ExpiryInput;

/** An edit, its new expiry given as a time (null: never) or a time to live. */
export type MemoryEdit = MemoryPatch & ExpiryInput;

export interface MemoryServiceDeps {
  store: RelationalStore;
  indexingQueue: IndexingQueue;
  /** Told when an indexing request could not be made; the reconciler retries it. */
  onIndexRequestError?: (error: unknown, targets: readonly IndexTarget[]) => void;
  /** Milliseconds since the epoch; a time to live counts from it (default `Date.now`). */
  now?: () => number;
}

/**
 * `input` with its time to live turned into an expiry time. Both at once is
 * a `bad_request` (the edges refuse it first, naming the field).
 */
function resolveExpiry<T extends ExpiryInput & { expiresAt?: Date | null }>(
  input: T,
  now: () => number,
): Omit<T, 'ttlS'> {
  const { ttlS, ...rest } = input;
  if (ttlS === undefined) return rest;
  if (rest.expiresAt !== undefined) {
    throw new AppError('bad_request', 'ttl_s: expected either expires_at or ttl_s, not both');
  }
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_TTL_S) {
    throw new AppError('bad_request', `ttl_s: expected a whole number from 1 to ${MAX_TTL_S}`);
  }
  return { ...rest, expiresAt: new Date(now() + ttlS * 1000) };
}

/**
 * Memories as users see them. Every write commits to the relational store
 * first and only then asks for indexing, so an acknowledged memory survives
 * any crash or outage. The request is bounded by the queue's short deadline
 * and never fails the write: a memory whose request failed stays `pending`
 * and is picked up by the reconciler. A store that is down fails the write
 * (`dependency_unavailable`), so nothing is acknowledged that was not kept.
 */
export function createMemoryService({
  store,
  indexingQueue,
  onIndexRequestError,
  now = Date.now,
}: MemoryServiceDeps) {
  const requestIndexing = async (targets: IndexTarget[]) => {
    if (targets.length === 0) return;
    try {
      await indexingQueue.request(targets);
    } catch (error) {
      onIndexRequestError?.(error, targets);
    }
  };

  return {
    /**
     * Saves one or more memories atomically; content a user already has is
     * not stored twice (the stored memory, times included, is left as it is).
     */
    async save(userId: string, memories: readonly MemoryInput[]): Promise<SaveResult[]> {
      const results = await store.insertMemories(
        userId,
        memories.map((m) => resolveExpiry(m, now)),
      );
      // A duplicate still pending may have lost its request: asking again is harmless.
      const toIndex = results.filter((r) => r.memory.indexState === 'pending');
      await requestIndexing(toIndex.map((r) => ({ userId, memoryId: r.memory.id })));
      return results;
    },

    /** One memory; `not_found` when it is not the user's, was deleted or has expired. */
    async get(userId: string, memoryId: string): Promise<Memory> {
      const memory = await store.getMemory(userId, memoryId);
      if (!memory) throw new AppError('not_found', `memory ${memoryId} not found`);
      return memory;
    },

    list: (userId: string, input: ListMemoriesInput) => store.listMemories(userId, input),

    /** Applies an edit; event time and expiry survive every edit that does not name them. */
    async update(userId: string, memoryId: string, edit: MemoryEdit): Promise<Memory> {
      const patch = resolveExpiry(edit, now);
      const before = await store.getMemory(userId, memoryId);
      const memory = before ? await store.updateMemory(userId, memoryId, patch) : null;
      if (!memory) throw new AppError('not_found', `memory ${memoryId} not found`);
      if (memory.revision !== before?.revision) await requestIndexing([{ userId, memoryId }]);
      return memory;
    },

    async remove(userId: string, memoryId: string): Promise<void> {
      if (!(await store.deleteMemory(userId, memoryId))) {
        throw new AppError('not_found', `memory ${memoryId} not found`);
      }
      await requestIndexing([{ userId, memoryId }]);
    },
  };
}

export type MemoryService = ReturnType<typeof createMemoryService>;

/** Users and their keys, for the admin API. */
export function createAdminService(store: RelationalStore) {
  return {
    async createUser(name: string | null) {
      const user = await store.createUser({ name });
      const key = generateApiKey();
      const record = await store.insertApiKey(user.id, key);
      return { user, apiKey: key.apiKey, keyId: record.id };
    },
    async issueKey(userId: string) {
      if (!(await store.getUser(userId)))
        throw new AppError('not_found', `user ${userId} not found`);
      const key = generateApiKey();
      const record = await store.insertApiKey(userId, key);
      return { apiKey: key.apiKey, keyId: record.id, userId };
    },
    async revokeKey(keyId: string) {
      if (!(await store.revokeApiKey(keyId))) {
        throw new AppError('not_found', `key ${keyId} not found or already revoked`);
      }
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
