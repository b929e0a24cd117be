import type { ContextPlan } from '../planning/context-plan.ts';
import type { Memory, RetrievalFilter } from '../ports/relational-store.ts';
import { DEFAULT_STATE, matchesFilter, narrowsBeyondState } from '../retrieval/filters.ts';
import { assembleContext } from './assemble.ts';
import type { ContextMemory, ContextServiceDeps } from './context-types.ts';

/** Whether the request opens a conversation that wants context. */
export function opensConversation(request: { isNewConversation: boolean; depth: number }) {
  return request.isNewConversation && request.depth !== 0;
}

/** The plan reported for an opening message: narrative and recent memories, no search. */
export function newConversationPlan(saveWorthy: boolean): ContextPlan {
  return {
    strategy: 'relevant_context',
    queries: [],
    includeNarrative: true,
    saveWorthy,
    source: 'classifier',
  };
}

/**
 * The first message of a conversation: the stored narrative and the most
 * recent memories that pass the filter, no search and no model call. A
 * missing or stale narrative is requested at high priority, never waited for.
 */
export async function newConversation(
  deps: Pick<ContextServiceDeps, 'store' | 'requestNarrative' | 'recentIds' | 'memoriesAsOf'>,
  userId: string,
  dataVersion: number,
  limit: number,
  filter?: RetrievalFilter,
): Promise<{ context: string; memories: ContextMemory[] }> {
  const [narrative, recent] = await Promise.all([
    deps.store.latestNarrative(userId),
    recentAsOf(deps, userId, dataVersion, limit, filter),
  ]);
  if (!narrative || narrative.dataVersion < dataVersion) deps.requestNarrative?.(userId);
  const memories = recent.map((memory, i) => ({
    memory,
    score: Math.round((1 / (i + 1)) * 1e6) / 1e6,
    sources: ['recent'],
  }));
  return { context: assembleContext(narrative, recent), memories };
}

/**
 * The user's latest memories that pass the filter as of `dataVersion`: from
 * the engine's per-version caches of rankings and memories when it has them
 * (a conversation opened again before anything changed reads nothing), else
 * read.
 */
async function recentAsOf(
  deps: Pick<ContextServiceDeps, 'store' | 'recentIds' | 'memoriesAsOf'>,
  userId: string,
  dataVersion: number,
  limit: number,
  filter: RetrievalFilter | undefined,
): Promise<Memory[]> {
  const { recentIds, memoriesAsOf } = deps;
  if (!recentIds || !memoriesAsOf) return recentMemories(deps.store, userId, limit, filter);
  const ids = await recentIds(userId, limit, filter, dataVersion);
  const byId = new Map((await memoriesAsOf(userId, ids, dataVersion)).map((m) => [m.id, m]));
  const wanted = filter ?? { state: DEFAULT_STATE };
  return ids.flatMap((id) => {
    const memory = byId.get(id);
    return memory && matchesFilter(memory, wanted) ? [memory] : [];
  });
}

/**
 * The user's latest memories that pass the filter; the unfiltered call (and
 * its index) when the filter asks only for active memories, as it does by default.
 */
export function recentMemories(
  store: Pick<ContextServiceDeps['store'], 'recentMemories'>,
  userId: string,
  limit: number,
  filter: RetrievalFilter | undefined,
) {
  const plain = !filter || (filter.state === 'active' && !narrowsBeyondState(filter));
  return plain ? store.recentMemories(userId, limit) : store.recentMemories(userId, limit, filter);
}
