import type { ContextService } from '../core/context/context-service.ts';
import { defineRoute, type RouteSpec } from './route-registry.ts';
import type { ApiSchemas } from './schemas.ts';

/** `POST /v1/context`: what the assistant should know before it answers. */
export function contextRoutes(s: ApiSchemas, contexts: ContextService): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/context',
      tag: 'context',
      auth: 'user',
      summary:
        'Context for a message: classified, cached, planned when needed, retrieved in parallel',
      description:
        'Simple messages skip AI planning (`plan.source: classifier`); others use a cached plan, ' +
        'the model, or a heuristic. `cache` says which tier answered the plan and the search; ' +
        '`degraded` lists strategies that failed or timed out (the context is then partial).',
      body: s.contextBody,
      responses: { 200: { description: 'the context', schema: s.contextOut } },
      async handler({ body, userId }) {
        const result = await contexts.context(userId, {
          message: body.message,
          isNewConversation: body.is_new_conversation,
          depth: body.depth,
        });
        return {
          status: 200,
          body: {
            context: result.context,
            memories: result.memories.map((m) => ({
              id: m.memory.id,
              content: m.memory.content,
              tags: m.memory.tags,
              score: Number(m.score.toFixed(6)),
              created_at: new Date(m.memory.createdAt).toISOString(),
              sources: m.sources,
            })),
            plan: {
              source: result.plan.source,
              class: result.plan.class,
              reason: result.plan.reason,
              strategy: result.plan.strategy,
              queries: result.plan.queries,
              include_narrative: result.plan.includeNarrative,
              save_worthy: result.plan.saveWorthy,
            },
            timings: result.timings,
            cache: result.cache,
            model_calls: result.modelCalls,
            degraded: result.degraded,
          },
        };
      },
    }),
  ];
}
