import type { z } from 'zod';
import type { ContextService } from '../core/context/context-service.ts';
import type { Engine } from '../core/engine.ts';
import type { ContextLocals } from './metrics.routes.ts';
import { ContextPresenter } from './presenters/context.presenter.ts';
import { routeGroup, type RouteSpec } from './route-registry.ts';
import type { ApiSchemas } from './schemas.ts';

const contextRoute = routeGroup({ tag: 'context', auth: 'user' });

/** `POST /v1/context` (what the assistant should know before it answers) and `GET /v1/narrative`. */
export function contextRoutes(
  s: ApiSchemas,
  contexts: ContextService,
  narratives: Engine['narratives'],
): RouteSpec[] {
  const present = new ContextPresenter(contexts, narratives);
  return [messageContextRoute(s, present), narrativeRoute(s, present)];
}

/** How the request was classified, for the metrics middleware to label it with. */
function contextLocals(
  input: z.output<ApiSchemas['contextBody']>,
  out: z.output<ApiSchemas['contextOut']>,
): ContextLocals {
  return {
    messageClass: input.is_new_conversation ? 'new_conversation' : out.plan.class,
    planClass: out.plan.class,
    reason: out.plan.reason,
    planSource: out.plan.source,
    ...(out.plan.fallback ? { planFallback: out.plan.fallback } : {}),
    modelCalls: out.model_calls,
  };
}

function messageContextRoute(s: ApiSchemas, present: ContextPresenter): RouteSpec {
  return contextRoute({
    method: 'post',
    path: '/v1/context',
    operationId: 'getContext',
    summary:
      'Context for a message: classified, cached, planned when needed, retrieved in parallel',
    description:
      'Simple messages skip AI planning (`plan.source: classifier`); others use a cached plan, ' +
      'the model, or a heuristic. `cache` says which tier answered the plan and the search; ' +
      '`degraded` lists strategies that failed or timed out, as `name: timeout` or ' +
      '`name: unavailable` (the context is then partial). `filters` (as on `/v1/search`) and ' +
      '`from`/`to` narrow which memories it may use.',
    body: s.contextBody,
    responses: { 200: { description: 'the context', schema: s.contextOut } },
    async handler({ body, userId, res }) {
      const presented = await present.context(userId, body);
      res.locals.context = contextLocals(body, presented.body);
      return presented;
    },
  });
}

function narrativeRoute(s: ApiSchemas, present: ContextPresenter): RouteSpec {
  return contextRoute({
    method: 'get',
    path: '/v1/narrative',
    operationId: 'getNarrative',
    errors: [404],
    summary: "The user's current narrative",
    description:
      'The latest portrait of the user, written in the background by the narrative scheduler ' +
      'from their memories. 404 until the first one is written (the first new conversation ' +
      'or a save asks for it).',
    responses: { 200: { description: 'the narrative', schema: s.narrativeOut } },
    handler: ({ userId }) => present.narrative(userId),
  });
}
