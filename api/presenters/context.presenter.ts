import type { z } from 'zod';
import type { ContextResult, ContextService } from '../../core/context/context-service.ts';
import type { Engine } from '../../core/engine.ts';
import { AppError } from '../../core/errors.ts';
import { retrievalFilter } from '../filters.schemas.ts';
import { givenFields } from '../given-fields.ts';
import type { ApiSchemas } from '../schemas.ts';
import { narrativeView, rankedView, type Presented } from './views.ts';

type ContextOut = z.output<ApiSchemas['contextOut']>;

function planView(plan: ContextResult['plan']): ContextOut['plan'] {
  return {
    source: plan.source,
    class: plan.class,
    reason: plan.reason,
    strategy: plan.strategy,
    queries: plan.queries,
    include_narrative: plan.includeNarrative,
    save_worthy: plan.saveWorthy,
    ...(plan.fallback ? { fallback: plan.fallback } : {}),
  };
}

/**
 * The context operations as both edges (REST and MCP) answer them: each takes
 * validated input and the caller's user id, calls core, and returns the body.
 */
export class ContextPresenter {
  constructor(
    private readonly contexts: ContextService,
    private readonly narratives: Engine['narratives'],
  ) {}

  /** What the assistant should know before it answers the user's message. */
  async context(
    userId: string,
    input: z.output<ApiSchemas['contextBody']>,
  ): Promise<Presented<ContextOut>> {
    const result = await this.contexts.context(userId, {
      message: input.message,
      isNewConversation: input.is_new_conversation,
      depth: input.depth,
      ...givenFields({
        filter: retrievalFilter(input.filters),
        from: input.from === undefined ? undefined : new Date(input.from),
        to: input.to === undefined ? undefined : new Date(input.to),
      }),
    });
    return {
      status: 200,
      body: {
        context: result.context,
        memories: result.memories.map(rankedView),
        plan: planView(result.plan),
        timings: result.timings,
        cache: result.cache,
        model_calls: result.modelCalls,
        degraded: result.degraded,
      },
    };
  }

  /** The user's current narrative; `not_found` before the first is written. */
  async narrative(userId: string): Promise<Presented<z.output<ApiSchemas['narrativeOut']>>> {
    const current = await this.narratives.current(userId);
    if (!current) {
      throw new AppError('not_found', 'no narrative has been written for this user yet');
    }
    return { status: 200, body: narrativeView(current.narrative, current.stale) };
  }
}
