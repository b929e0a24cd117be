import type { ContextPlan } from '../planning/context-plan.ts';
import type { ContextResult } from './context-types.ts';

/**
 * The answer builder of one request: the plan with its class and the
 * classifier's reason, the request's timings, and what each path found. A
 * path that skips a stage reports it as empty, with caches `off` and no
 * model call.
 */
export function resultFor(reason: string, timings: Record<string, number>) {
  return (
    plan: ContextPlan,
    cls: ContextResult['plan']['class'],
    found: Partial<ContextResult> = {},
  ): ContextResult => ({
    context: '',
    memories: [],
    plan: { ...plan, class: cls, reason },
    timings,
    cache: { plan: 'off', search: 'off' },
    modelCalls: 0,
    degraded: [],
    ...found,
  });
}
