import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import type { ContextPlan } from '../../core/planning/context-plan.ts';
import type { PlanBackfillOptions } from '../../core/planning/plan-backfill.ts';
import { createPlanService, type PlanCache } from '../../core/planning/plan-service.ts';
import type { LanguageModel } from '../../core/ports/language-model.ts';

const modelPlan = (query: string) =>
  JSON.stringify({
    strategy: 'deep_understanding',
    queries: [query],
    include_narrative: true,
    save_worthy: false,
  });

/** A model that plans every prompt with the query `model: <prompt>`, counting its calls; `fail` makes it throw. */
function scriptedModel() {
  const state = { calls: 0, fail: undefined as AppError | undefined, prompts: [] as string[] };
  const model: LanguageModel = {
    id: 'scripted',
    async generate({ prompt }) {
      state.calls++;
      state.prompts.push(prompt);
      if (state.fail) throw state.fail;
      return { text: modelPlan(`model: ${prompt}`), model: 'scripted', latencyMs: 0 };
    },
  };
  return { model, state };
}

/** A bucket holding `tokens` until the test adds more; it never refills by itself. */
function manualBucket() {
  const bucket = {
    tokens: 0,
    async take() {
      if (bucket.tokens < 1) return false;
      bucket.tokens--;
      return true;
    },
  };
  return bucket;
}

/** A plan cache over a Map; `enabled: false` answers `off` as the tiered cache does when switched off. */
function mapCache(enabled = true) {
  const entries = new Map<string, ContextPlan>();
  const cache: PlanCache = {
    async get(key) {
      if (!enabled) return { value: null, tier: 'off' };
      const value = entries.get(key) ?? null;
      return { value, tier: value ? 'l1' : 'miss' };
    },
    set(key, value) {
      if (enabled) entries.set(key, value);
    },
  };
  return { cache, entries };
}

function service(opts: { backfill?: PlanBackfillOptions | false; cacheEnabled?: boolean } = {}) {
  const { model, state } = scriptedModel();
  const bucket = manualBucket();
  const { cache, entries } = mapCache(opts.cacheEnabled);
  const plans = createPlanService({
    model,
    timeoutMs: 1000,
    bucket,
    maxTokenWaitMs: 0,
    cache,
    backfill: opts.backfill ?? { retryMs: 1 },
  });
  return { plans, model: state, bucket, entries };
}

describe('plan service: background planning of busy fallbacks', () => {
  it('plans a rate-limited message in the background once a token is free, so its repeat is a cached model plan', async () => {
    const { plans, model, bucket, entries } = service();
    const first = await plans.plan('k1', 'how is my running going?');
    assert.equal(first.plan.source, 'heuristic');
    assert.equal(first.plan.fallback, 'rate_limited');
    assert.equal(model.calls, 0);
    assert.equal(entries.size, 0, 'a heuristic plan is never cached');

    bucket.tokens = 1;
    await plans.backfillSettled();
    assert.equal(model.calls, 1);
    const repeat = await plans.plan('k1', 'how is my running going?');
    assert.equal(repeat.plan.source, 'cache');
    assert.deepEqual(repeat.plan.queries, ['model: how is my running going?']);
    assert.equal(repeat.modelCalls, 0);
    assert.equal(plans.backfillStats()?.filled, 1);
    plans.close();
  });

  it('answers the request with the heuristic plan without waiting for the background call', async () => {
    const { plans, bucket } = service();
    bucket.tokens = 0;
    const outcome = await plans.plan('k1', 'why do I keep skipping practice?');
    // The request came back while the message still waits for a token in the background.
    assert.equal(outcome.plan.source, 'heuristic');
    assert.deepEqual(
      { queued: plans.backfillStats()?.queued, inFlight: plans.backfillStats()?.inFlight },
      { queued: 1, inFlight: 0 },
    );
    plans.close();
  });

  it('queues a message once however often it falls back, and plans it once', async () => {
    const { plans, model, bucket } = service();
    for (let i = 0; i < 3; i++) await plans.plan('k1', 'what changed in my diet?');
    assert.deepEqual(
      { queued: plans.backfillStats()?.queued, deduplicated: plans.backfillStats()?.deduplicated },
      { queued: 1, deduplicated: 2 },
    );
    bucket.tokens = 5;
    await plans.backfillSettled();
    assert.equal(model.calls, 1);
    plans.close();
  });

  it('keeps the newest messages when the queue is full and plans the newest first', async () => {
    const { plans, model, bucket, entries } = service({ backfill: { capacity: 2, retryMs: 1 } });
    await plans.plan('k1', 'first question about work');
    await plans.plan('k2', 'second question about work');
    await plans.plan('k3', 'third question about work');
    assert.equal(plans.backfillStats()?.dropped, 1);
    bucket.tokens = 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(model.prompts, ['third question about work']);
    bucket.tokens = 5;
    await plans.backfillSettled();
    assert.deepEqual([...entries.keys()].sort(), ['k2', 'k3'], 'the oldest was dropped unplanned');
    plans.close();
  });

  it('caches nothing when the background call times out again, and counts why', async () => {
    const { plans, model, bucket, entries } = service();
    await plans.plan('k1', 'how should I plan my week?');
    model.fail = new AppError('timeout', 'slow');
    bucket.tokens = 1;
    await plans.backfillSettled();
    assert.equal(model.calls, 1);
    assert.equal(entries.size, 0);
    assert.deepEqual(plans.backfillStats()?.failed, { timeout: 1 });
    const again = await plans.plan('k1', 'how should I plan my week?');
    assert.equal(again.plan.source, 'heuristic', 'no cached plan: the heuristic stands in again');
    plans.close();
  });

  it('queues a message whose request timed out, and not one the model answered off the schema', async () => {
    const { plans, model, bucket } = service();
    bucket.tokens = 1;
    model.fail = new AppError('timeout', 'slow');
    const timedOut = await plans.plan('k1', 'how did my sleep change?');
    assert.equal(timedOut.plan.fallback, 'timeout');
    model.fail = undefined;
    bucket.tokens = 1;
    await plans.backfillSettled();
    assert.equal(plans.backfillStats()?.filled, 1);

    const offSchema = createPlanService({
      model: {
        id: 'odd',
        generate: async () => ({ text: '{"nope":1}', model: 'odd', latencyMs: 0 }),
      },
      timeoutMs: 1000,
      bucket: { take: async () => true },
      maxTokenWaitMs: 0,
      cache: mapCache().cache,
    });
    const odd = await offSchema.plan('k2', 'how did my sleep change?');
    assert.equal(odd.plan.fallback, 'off_schema');
    assert.equal(offSchema.backfillStats()?.enqueued, 0);
    plans.close();
    offSchema.close();
  });

  it('skips a message another request has cached meanwhile, without a model call', async () => {
    const { plans, model, bucket } = service();
    await plans.plan('k1', 'how is my garden doing?');
    bucket.tokens = 1;
    // A request for the same message gets the token first and caches the model's plan.
    const served = await plans.plan('k1', 'how is my garden doing?');
    assert.equal(served.plan.source, 'model');
    bucket.tokens = 1;
    await plans.backfillSettled();
    assert.equal(model.calls, 1);
    assert.equal(plans.backfillStats()?.skipped, 1);
    plans.close();
  });

  it('plans nothing in the background when the plan cache is off or background planning is turned off', async () => {
    for (const opts of [{ cacheEnabled: false }, { backfill: false as const }]) {
      const { plans, model, bucket } = service(opts);
      await plans.plan('k1', 'what are my goals this year?');
      bucket.tokens = 5;
      await plans.backfillSettled();
      assert.equal(model.calls, 0);
      plans.close();
    }
  });
});
