import { createMemoryService, type MemoryService } from '../memories/memory-service.ts';
import type { NarrativePriority } from '../ports/narrative-queue.ts';
import type { EngineHooks, EnginePorts } from './engine-types.ts';

/** Asks for a user's narrative to be (re)built; never rejects. */
export type RequestNarrative = (userId: string, priority: NarrativePriority) => void;

/**
 * Requests narrative (re)builds on the narrative queue; a failed request goes
 * to `hooks.onNarrativeRequestError`. Without a queue, none are made.
 */
export function narrativeRequester(
  ports: Pick<EnginePorts, 'narrativeQueue'>,
  hooks: Pick<EngineHooks, 'onNarrativeRequestError'>,
): RequestNarrative {
  return (userId, priority) => {
    ports.narrativeQueue
      ?.enqueue([{ userId, priority }])
      .catch((error: unknown) => hooks.onNarrativeRequestError?.(error));
  };
}

/**
 * The memory service; a save that creates a memory refreshes the user's
 * portrait at low priority (coalesced by the queue).
 */
export function createEngineMemories(
  ports: Pick<EnginePorts, 'store' | 'indexingQueue'>,
  hooks: Pick<EngineHooks, 'onIndexRequestError'>,
  requestNarrative: RequestNarrative,
): MemoryService {
  const memoryService = createMemoryService({
    store: ports.store,
    indexingQueue: ports.indexingQueue,
    ...(hooks.onIndexRequestError ? { onIndexRequestError: hooks.onIndexRequestError } : {}),
  });
  return {
    ...memoryService,
    async save(userId, list) {
      const results = await memoryService.save(userId, list);
      if (results.some((r) => r.created)) requestNarrative(userId, 'low');
      return results;
    },
  };
}

/**
 * Saves a message the context plan found worth remembering, tagged
 * `auto-saved`; a failure goes to `hooks.onRememberError`, never to the caller.
 *
 * A message longer than `maxChars` (the limit a saved memory has,
 * `MAX_MEMORY_CHARS`) is not saved: a save through the API refuses such
 * content rather than cutting it, and a cut message would be stored as words
 * the user never said as such, a fragment whose end may change its meaning.
 * The message is still answered; only the guess that it was worth keeping is
 * dropped. Without `maxChars` (callers that set no limit) every message is saved.
 */
export function autoSaver(
  memories: MemoryService,
  hooks: Pick<EngineHooks, 'onRememberError'>,
  maxChars = Number.POSITIVE_INFINITY,
) {
  return async (userId: string, content: string): Promise<void> => {
    if (content.trim().length > maxChars) return;
    try {
      await memories.save(userId, [{ content, tags: ['auto-saved'] }]);
    } catch (error) {
      hooks.onRememberError?.(error);
    }
  };
}

/** The user's narrative as the API shows it; a stale one is refreshed at normal priority. */
export function createNarratives(
  ports: Pick<EnginePorts, 'store'>,
  requestNarrative: RequestNarrative,
) {
  return {
    /** The user's current narrative and whether memories changed since; null before the first. */
    async current(userId: string) {
      const [narrative, version] = await Promise.all([
        ports.store.latestNarrative(userId),
        ports.store.dataVersionOf(userId),
      ]);
      if (!narrative) return null;
      const stale = narrative.dataVersion < (version ?? 0);
      if (stale) requestNarrative(userId, 'normal');
      return { narrative, stale };
    },
  };
}
