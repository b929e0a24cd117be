import type { WaitingTokenBucket } from '../concurrency/token-bucket.ts';
import { createConversationService } from '../conversations/conversation-service.ts';
import type { SearchService } from '../retrieval/search-service.ts';
import type { RequestNarrative } from './engine-services.ts';
import type { EngineHooks, EnginePorts, EngineSettings } from './engine-types.ts';

/** The longest fact the model may write when the settings name no limit: `MAX_MEMORY_CHARS`'s ceiling. */
const UNSET_MEMORY_CHARS = 100_000;

/**
 * Conversations in, over the engine's search, model and store; model calls
 * draw on `bucket`, the one planning uses, so both share the model's budget.
 */
export function createEngineConversations(
  ports: Pick<EnginePorts, 'store' | 'model' | 'indexingQueue'>,
  settings: Pick<EngineSettings, 'model' | 'maxMemoryChars'>,
  parts: { search: SearchService; bucket: WaitingTokenBucket; requestNarrative: RequestNarrative },
  hooks: Pick<EngineHooks, 'onIndexRequestError'>,
) {
  return createConversationService({
    store: ports.store,
    search: parts.search,
    model: ports.model,
    bucket: parts.bucket,
    maxTokenWaitMs: settings.model.maxTokenWaitMs,
    timeoutMs: settings.model.timeoutMs,
    maxMemoryChars: settings.maxMemoryChars ?? UNSET_MEMORY_CHARS,
    indexingQueue: ports.indexingQueue,
    ...(hooks.onIndexRequestError ? { onIndexRequestError: hooks.onIndexRequestError } : {}),
    requestNarrative: (userId) => parts.requestNarrative(userId, 'low'),
  });
}
