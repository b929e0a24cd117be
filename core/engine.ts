// core/: the engine itself, pure logic over ports (core/ports): classify,
// plan, retrieve and fuse, assemble context, caches, indexing steps,
// narratives, consolidation rules, and the small shared helpers (util/,
// concurrency/). Imports nothing outside core/; every other room may import it.
// This file assembles the engine's services from the ports.
import { createTokenBucket } from './concurrency/token-bucket.ts';
import { requeueFailedIndexing } from './indexing/requeue.ts';
import { createAdminService } from './memories/memory-service.ts';
import { createSearchService } from './retrieval/search-service.ts';
import { createEngineCaches } from './engine/engine-caches.ts';
import { createEngineConversations } from './engine/engine-conversations.ts';
import { createEngineContext, createEnginePlans } from './engine/engine-planning.ts';
import { createEngineRetrieval } from './engine/engine-retrieval.ts';
import {
  autoSaver,
  createEngineMemories,
  createNarratives,
  narrativeRequester,
} from './engine/engine-services.ts';
import type { EngineHooks, EnginePorts, EngineSettings } from './engine/engine-types.ts';

export type { EngineHooks, EnginePorts, EngineSettings } from './engine/engine-types.ts';

/**
 * Builds the engine's services over its ports: memories, search, context
 * (classification, plan cache, parallel strategies, search cache, batched
 * vector queries) and administration. The API and any other edge (MCP) use
 * the same instance.
 */
export function createEngine(
  ports: EnginePorts,
  settings: EngineSettings,
  hooks: EngineHooks = {},
) {
  const requestNarrative = narrativeRequester(ports, hooks);
  const memories = createEngineMemories(ports, hooks, requestNarrative);
  const caches = createEngineCaches(ports, settings, hooks);
  const retrieval = createEngineRetrieval(ports, settings, caches.embedding);
  // Planning and conversation extraction draw on one model budget.
  const modelBucket =
    settings.model.bucket ??
    createTokenBucket({
      capacity: settings.model.burst,
      refillPerSecond: settings.model.ratePerSecond,
    });
  const plans = createEnginePlans(
    ports.model,
    { ...settings.model, bucket: modelBucket },
    caches.plan,
  );
  const context = createEngineContext(
    {
      retrieval: retrieval.deps,
      plans,
      caches,
      requestNarrative,
      remember: autoSaver(memories, hooks, settings.maxMemoryChars),
    },
    settings,
    hooks,
  );

  const search = createSearchService({
    ...retrieval.deps,
    retrieverTimeoutMs: settings.strategyTimeoutMs,
    ...(hooks.onSearchRetrieverError ? { onRetrieverError: hooks.onSearchRetrieverError } : {}),
  });

  return {
    memories,
    search,
    context,
    conversations: createEngineConversations(
      ports,
      settings,
      { search, bucket: modelBucket, requestNarrative },
      hooks,
    ),
    admin: createAdminService(ports.store),
    /** Puts failed memories (one user's, or everyone's) back to pending and requests their indexing. */
    reindexFailed: (userId?: string) =>
      requeueFailedIndexing(ports, userId, (error) => hooks.onIndexRequestError?.(error, [])),
    narratives: createNarratives(ports, requestNarrative),
    caches,
    stats: () => ({ ...retrieval.stats(), sharedPlanCalls: plans.sharedCalls() }),
    /** The background planning of messages whose plan fell back (null: off, or no model). */
    planBackfill: () => plans.backfillStats(),
    /**
     * Stops the engine's own background work: the plan backfill drops what waits and
     * starts no more model calls (those in flight finish). The ports are the caller's.
     */
    close: () => plans.close(),
  };
}

export type Engine = ReturnType<typeof createEngine>;
