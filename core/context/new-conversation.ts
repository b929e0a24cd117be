import type { ContextPlan } from '../planning/context-plan.ts';
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
 * recent memories, no search and no model call. A missing or stale
 * narrative is requested at high priority, never waited for.
 */
export async function newConversation(
  deps: Pick<ContextServiceDeps, 'store' | 'requestNarrative'>,
  userId: string,
  dataVersion: number,
  limit: number,
): Promise<{ context: string; memories: ContextMemory[] }> {
  const [narrative, recent] = await Promise.all([
    deps.store.latestNarrative(userId),
    deps.store.recentMemories(userId, limit),
  ]);
  if (!narrative || narrative.dataVersion < dataVersion) deps.requestNarrative?.(userId);
  const memories = recent.map((memory, i) => ({
    memory,
    score: Math.round((1 / (i + 1)) * 1e6) / 1e6,
    sources: ['recent'],
  }));
  return { context: assembleContext(narrative, recent), memories };
}
