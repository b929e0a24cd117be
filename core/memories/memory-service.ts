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

export interface MemoryServiceDeps {
  store: RelationalStore;
  indexingQueue: IndexingQueue;
  /** Told when an indexing request could not be made; the reconciler retries it. */
  onIndexRequestError?: (error: unknown, targets: readonly IndexTarget[]) => void;
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
    /** Saves one or more memories atomically; content a user already has is not stored twice. */
    async save(userId: string, memories: readonly NewMemory[]): Promise<SaveResult[]> {
      const results = await store.insertMemories(userId, memories);
      // A duplicate still pending may have lost its request: asking again is harmless.
      const toIndex = results.filter((r) => r.memory.indexState === 'pending');
      await requestIndexing(toIndex.map((r) => ({ userId, memoryId: r.memory.id })));
      return results;
    },

    async get(userId: string, memoryId: string): Promise<Memory> {
      const memory = await store.getMemory(userId, memoryId);
      if (!memory) throw new AppError('not_found', `memory ${memoryId} not found`);
      return memory;
    },

    list: (userId: string, input: ListMemoriesInput) => store.listMemories(userId, input),

    async update(userId: string, memoryId: string, patch: MemoryPatch): Promise<Memory> {
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
