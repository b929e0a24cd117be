import type { ContextPlan } from '../planning/context-plan.ts';
import type { CacheTier, PlanCache, PlanService } from '../planning/plan-service.ts';
import type { Memory, RetrievalFilter } from '../ports/relational-store.ts';
import type { FusedHit } from '../retrieval/fusion.ts';
import type { StrategyDeps } from './strategies.ts';

export interface ContextRequest {
  message: string;
  isNewConversation: boolean;
  /** 0 no context, 1 fast, 2 balanced, 3 deep. */
  depth: 0 | 1 | 2 | 3;
  /** Which memories the context may use; only active ones when it names no state. */
  filter?: RetrievalFilter;
  /** Shorthand for `filter.from`. */
  from?: Date;
  /** Shorthand for `filter.to`. */
  to?: Date;
}

export interface ContextMemory {
  memory: Memory;
  score: number;
  sources: string[];
}

export interface ContextResult {
  context: string;
  memories: ContextMemory[];
  plan: ContextPlan & { class: 'simple' | 'complex' | 'none'; reason: string };
  timings: Record<string, number>;
  cache: { plan: CacheTier; search: CacheTier };
  modelCalls: number;
  /** Strategies that failed or ran out of time; the context is built from the rest. */
  degraded: string[];
}

/** The search-result cache: fused hits, keyed with the user's data version. */
export interface SearchCache {
  get(key: string): Promise<{ value: { hits: FusedHit[] } | null; tier: CacheTier }>;
  set(key: string, value: { hits: FusedHit[] }): unknown;
}

export interface ContextServiceDeps extends StrategyDeps {
  /**
   * The user's memories among `ids` as they are at `dataVersion` (any save,
   * edit, delete or index change bumps it), unknown, deleted and expired ones
   * left out: cached by the engine, so the memories a context shows are read
   * once per version, not once per message. Without it they are read.
   */
  memoriesAsOf?(userId: string, ids: readonly string[], dataVersion: number): Promise<Memory[]>;
  plans: PlanService;
  /** Read for a cached plan when heavy work is refused (see `options.admitHeavy`). */
  planCache?: PlanCache;
  searchCache: SearchCache;
  keys: {
    /**
     * A plan depends on the message alone (the planner sees nothing else), so
     * its key carries no data version: saves do not make a user's plans stale.
     */
    plan(userId: string, message: string): string;
    search(userId: string, dataVersion: number, parts: unknown[]): string;
  };
  /** Asks for the user's narrative to be (re)built; never rejects. */
  requestNarrative?(userId: string): void;
  /** Saves a message the plan found worth remembering (durable write path); never rejects. */
  remember(userId: string, content: string): Promise<void>;
  /** Told the detail of a failed or late strategy; the answer names only the strategy and `reason`. */
  onStrategyError?: (strategy: string, reason: 'timeout' | 'unavailable', error: unknown) => void;
  options: {
    classifierEnabled: boolean;
    parallel: boolean;
    concurrency: number;
    strategyTimeoutMs: number;
    /**
     * Asked before a complex message is planned with the model; false (memory
     * pressure) answers from a cached plan only, or refuses with `overloaded`.
     */
    admitHeavy?: () => boolean;
  };
}
