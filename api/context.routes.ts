import type { ContextService } from '../core/context/context-service.ts';
import type { Engine } from '../core/engine.ts';
import { AppError } from '../core/errors.ts';
import { defineRoute, type RouteSpec } from './route-registry.ts';
import type { ApiSchemas } from './schemas.ts';

/** `POST /v1/context` (what the assistant should know before it answers) and `GET /v1/narrative`. */
export function contextRoutes(
  s: ApiSchemas,
  contexts: ContextService,
  narratives: Engine['narratives'],
): RouteSpec[] {
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
      async handler({ body, userId, req }) {
        const result = await contexts.context(userId, {
          message: body.message,
          isNewConversation: body.is_new_conversation,
          depth: body.depth,
        });
        // The metrics middleware labels the request with how it was classified. MCP tools
        // call this handler with no HTTP request of its own.
        const res = (req as typeof req | undefined)?.res;
        if (res) {
          res.locals.context = {
            messageClass: body.is_new_conversation ? 'new_conversation' : result.plan.class,
            planClass: result.plan.class,
            reason: result.plan.reason,
            planSource: result.plan.source,
            modelCalls: result.modelCalls,
          };
        }
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
    defineRoute({
      method: 'get',
      path: '/v1/narrative',
      tag: 'context',
      auth: 'user',
      summary: "The user's current narrative",
      description:
        'The latest portrait of the user, written in the background by the narrative scheduler ' +
        'from their memories. 404 until the first one is written (the first new conversation ' +
        'or a save asks for it).',
      responses: { 200: { description: 'the narrative', schema: s.narrativeOut } },
      async handler({ userId }) {
        const current = await narratives.current(userId);
        if (!current) {
          throw new AppError('not_found', 'no narrative has been written for this user yet');
        }
        const { narrative, stale } = current;
        return {
          status: 200,
          body: {
            content: narrative.content,
            version: narrative.version,
            data_version: narrative.dataVersion,
            stale,
            model: narrative.model,
            created_at: new Date(narrative.createdAt).toISOString(),
          },
        };
      },
    }),
  ];
}
