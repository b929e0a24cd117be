import { AppError } from '../errors.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import {
  modelPlanSchema,
  strategies,
  type ContextPlan,
  type PlanFallback,
} from './context-plan.ts';
import { heuristicPlan } from './heuristic-planner.ts';

export interface PlanOutcome {
  plan: ContextPlan;
  /** Model requests this plan cost (0 or 1). */
  modelCalls: number;
  /** Why the heuristic was used although a model is configured. */
  fallbackReason?: string;
}

export interface Planner {
  plan(message: string): Promise<PlanOutcome>;
}

const SYSTEM = `You plan how a personal-memory engine gathers context for an AI assistant.
Given the user's latest message, answer with one JSON object and nothing else:
{"strategy": one of ${strategies.map((s) => `"${s}"`).join(', ')},
 "queries": 1 to 3 short search queries over the user's saved memories,
 "include_narrative": true when a portrait of the user helps answer,
 "save_worthy": true when the message states a lasting fact or preference about the user}`;

/**
 * Plans with the model when one is configured and falls back to the
 * heuristic plan on timeout, provider error or output that does not match
 * the schema, so planning never fails a request.
 */
export function createPlanner(options: {
  model: LanguageModel | null;
  timeoutMs: number;
}): Planner {
  const { model, timeoutMs } = options;
  return {
    async plan(message) {
      if (!model) return { plan: heuristicPlan(message), modelCalls: 0 };
      try {
        const answer = await model.generate({
          system: SYSTEM,
          prompt: message,
          json: true,
          temperature: 0,
          timeoutMs,
        });
        const parsed = modelPlanSchema.safeParse(safeJson(answer.text));
        if (!parsed.success) {
          return fallback(
            message,
            'off_schema',
            `model answered off-schema: ${parsed.error.issues[0]?.message}`,
          );
        }
        return {
          plan: {
            strategy: parsed.data.strategy,
            queries: parsed.data.queries,
            includeNarrative: parsed.data.include_narrative,
            saveWorthy: parsed.data.save_worthy,
            source: 'model',
          },
          modelCalls: 1,
        };
      } catch (error) {
        const code = error instanceof AppError ? error.code : 'model error';
        const why: PlanFallback =
          code === 'timeout' ? 'timeout' : code === 'rate_limited' ? 'rate_limited' : 'model_error';
        return fallback(message, why, code);
      }
    },
  };
}

function fallback(message: string, why: PlanFallback, detail: string): PlanOutcome {
  return {
    plan: { ...heuristicPlan(message), fallback: why },
    modelCalls: 1,
    fallbackReason: detail,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return undefined;
  }
}
