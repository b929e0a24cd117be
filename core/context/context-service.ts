import { classifyMessage } from '../classification/query-classifier.ts';
import { withTimeout, settleAll } from '../concurrency/limits.ts';
import { AppError } from '../errors.ts';
import type { ContextPlan } from '../planning/context-plan.ts';
import { searchQueries } from '../planning/heuristic-planner.ts';
import type { CacheTier, PlanCache, PlanService } from '../planning/plan-service.ts';
import type { Memory, Narrative } from '../ports/relational-store.ts';
import { fuseRankings, type FusedHit, type RankedList } from '../retrieval/fusion.ts';
import { assembleContext } from './assemble.ts';
import { planStrategies, type StrategyDeps } from './strategies.ts';

export interface ContextRequest {
  message: string;
  isNewConversation: boolean;
  /** 0 no context, 1 fast, 2 balanced, 3 deep. */
  depth: 0 | 1 | 2 | 3;
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
  plans: PlanService;
  /** Read for a cached plan when heavy work is refused (see `options.admitHeavy`). */
  planCache?: PlanCache;
  searchCache: SearchCache;
  keys: {
    plan(userId: string, dataVersion: number, message: string): string;
    search(userId: string, dataVersion: number, parts: unknown[]): string;
  };
  /** Asks for the user's narrative to be (re)built; never rejects. */
  requestNarrative?(userId: string): void;
  /** Saves a message the plan found worth remembering (durable write path); never rejects. */
  remember(userId: string, content: string): Promise<void>;
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

const LIMITS = { 0: 0, 1: 5, 2: 8, 3: 15 } as const;
const TOUCH_EVERY_MS = 60_000;
const TOUCH_MEMO_MAX = 100_000;

/**
 * The call assistants make before they answer. A message is classified
 * (simple ones skip planning), planned with the model when needed (through
 * the plan cache), and its retrieval strategies run concurrently, each with
 * its own deadline; a failed strategy leaves partial context, not an error.
 */
export function createContextService(deps: ContextServiceDeps) {
  const { store, options } = deps;

  // Activity matters by the minute (narratives follow users active in the last 48 h):
  // one write a minute per user from this process, not one per query.
  const touchedAt = new Map<string, number>();
  function touch(userId: string) {
    const now = Date.now();
    const last = touchedAt.get(userId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    if (touchedAt.size >= TOUCH_MEMO_MAX) touchedAt.clear();
    touchedAt.set(userId, now);
    void store.touchUser(userId).catch(() => touchedAt.delete(userId));
  }

  async function retrieve(userId: string, plan: ContextPlan, limit: number, dataVersion: number) {
    const strategies = planStrategies(deps, userId, plan, limit, dataVersion);
    const settled = await settleAll(
      strategies.map((s) => () => withTimeout(s.run(), options.strategyTimeoutMs, s.name)),
      options.parallel ? options.concurrency : 1,
    );
    const lists: RankedList[] = [];
    const degraded: string[] = [];
    let narrative: Narrative | null = null;
    settled.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        lists.push(...outcome.value.lists);
        narrative = outcome.value.narrative ?? narrative;
      } else {
        const reason =
          outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        degraded.push(`${strategies[i]!.name}: ${reason}`);
      }
    });
    return { hits: fuseRankings(lists), narrative: narrative as Narrative | null, degraded };
  }

  async function cachedPlanOnly(planKey: string) {
    const cached = deps.planCache ? await deps.planCache.get(planKey) : null;
    if (!cached?.value) {
      throw new AppError(
        'overloaded',
        'the server is short of memory and refuses new complex queries for now; ' +
          'simple and cached queries are still served, retry later',
      );
    }
    return {
      plan: { ...cached.value, source: 'cache' as const },
      modelCalls: 0,
      cache: cached.tier,
    };
  }

  /**
   * The first message of a conversation: the stored narrative and the most
   * recent memories, no search and no model call. A missing or stale
   * narrative is requested at high priority, never waited for.
   */
  async function newConversation(
    userId: string,
    dataVersion: number,
    limit: number,
    result: (plan: ContextPlan, extra: Partial<ContextResult>) => ContextResult,
  ): Promise<ContextResult> {
    const started = performance.now();
    const [narrative, recent] = await Promise.all([
      store.latestNarrative(userId),
      store.recentMemories(userId, limit),
    ]);
    if (!narrative || narrative.dataVersion < dataVersion) deps.requestNarrative?.(userId);
    const memories = recent.map((memory, i) => ({
      memory,
      score: Math.round((1 / (i + 1)) * 1e6) / 1e6,
      sources: ['recent'],
    }));
    const answer = result(
      {
        strategy: 'relevant_context',
        queries: [],
        includeNarrative: true,
        saveWorthy: false,
        source: 'classifier',
      },
      { context: assembleContext(narrative, recent), memories },
    );
    answer.timings.retrieve = round(performance.now() - started);
    return answer;
  }

  return {
    async context(userId: string, request: ContextRequest): Promise<ContextResult> {
      const started = performance.now();
      const timings: Record<string, number> = {};
      const lap = (stage: string, from: number) =>
        (timings[stage] = round(performance.now() - from));

      const user = await store.getUser(userId);
      // Querying counts as activity (narratives are kept fresh for users active lately).
      touch(userId);
      const dataVersion = user?.dataVersion ?? 0;
      let t = performance.now();
      const classified = options.classifierEnabled
        ? classifyMessage(request.message)
        : {
            kind: 'complex' as const,
            reason: 'classifier_off',
            needsContext: true,
            saveHint: false,
          };
      lap('classify', t);

      const limit = LIMITS[request.depth];
      const fastPlan = (strategy: ContextPlan['strategy']): ContextPlan => ({
        strategy,
        queries: searchQueries(request.message),
        includeNarrative: request.isNewConversation,
        saveWorthy: classified.saveHint,
        source: 'classifier',
      });
      const result = (
        plan: ContextPlan,
        cls: ContextResult['plan']['class'],
        extra: Partial<ContextResult>,
      ): ContextResult => ({
        context: '',
        memories: [],
        plan: { ...plan, class: cls, reason: classified.reason },
        timings,
        cache: { plan: 'off', search: 'off' },
        modelCalls: 0,
        degraded: [],
        ...extra,
      });

      if (request.isNewConversation && request.depth !== 0) {
        const answer = await newConversation(userId, dataVersion, limit, (plan, extra) =>
          result({ ...plan, saveWorthy: classified.saveHint }, classified.kind, extra),
        );
        // Saving must not slow the answer down; `remember` reports its own failures.
        if (answer.plan.saveWorthy) void deps.remember(userId, request.message);
        timings.total = round(performance.now() - started);
        return answer;
      }

      if (request.depth === 0 || (classified.kind === 'simple' && !classified.needsContext)) {
        timings.total = round(performance.now() - started);
        return result({ ...fastPlan('relevant_context'), queries: [] }, 'none', {});
      }

      t = performance.now();
      let plan: ContextPlan;
      let planCache: CacheTier = 'off';
      let modelCalls = 0;
      const fast = request.depth === 1 || (request.depth === 2 && classified.kind === 'simple');
      if (fast) {
        plan = fastPlan('relevant_context');
      } else {
        const planKey = deps.keys.plan(userId, dataVersion, request.message);
        const planned =
          options.admitHeavy && !options.admitHeavy()
            ? await cachedPlanOnly(planKey)
            : await deps.plans.plan(planKey, request.message);
        plan = planned.plan;
        planCache = planned.cache;
        modelCalls = planned.modelCalls;
        if (request.depth === 3) plan = { ...plan, includeNarrative: true };
      }
      lap('plan', t);

      t = performance.now();
      const searchKey = deps.keys.search(userId, dataVersion, [
        plan.strategy,
        plan.queries,
        plan.includeNarrative,
        limit,
      ]);
      const cached = await deps.searchCache.get(searchKey);
      let hits = cached.value?.hits;
      let narrative: Narrative | null = null;
      let degraded: string[] = [];
      if (!hits) {
        const retrieved = await retrieve(userId, plan, limit, dataVersion);
        hits = retrieved.hits;
        narrative = retrieved.narrative;
        degraded = retrieved.degraded;
        // Partial results are not cached: the next request may get the full picture.
        if (degraded.length === 0) deps.searchCache.set(searchKey, { hits });
      } else if (plan.includeNarrative) {
        narrative = await store.latestNarrative(userId);
      }
      lap('retrieve', t);

      t = performance.now();
      const top = hits.slice(0, limit * 2);
      const byId = new Map(
        (
          await store.getMemories(
            userId,
            top.map((h) => h.id),
          )
        ).map((m) => [m.id, m]),
      );
      const memories = top
        .map((h) => ({ memory: byId.get(h.id), score: h.score, sources: h.sources }))
        .filter((m): m is ContextMemory => m.memory !== undefined && m.memory.state === 'active')
        .slice(0, limit);
      const context = assembleContext(
        narrative,
        memories.map((m) => m.memory),
      );
      lap('assemble', t);

      // Saving must not slow the answer down; `remember` reports its own failures.
      if (plan.saveWorthy) void deps.remember(userId, request.message);
      timings.total = round(performance.now() - started);
      return result(plan, classified.kind, {
        context,
        memories,
        cache: { plan: planCache, search: cached.tier },
        modelCalls,
        degraded,
      });
    },
  };
}

export type ContextService = ReturnType<typeof createContextService>;

const round = (ms: number) => Math.round(ms * 100) / 100;
