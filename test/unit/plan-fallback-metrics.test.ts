import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPlanner } from '../../core/planning/planner.ts';
import { AppError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/ports/language-model.ts';
import { createMetrics } from '../../infra/metrics/metrics.ts';

/** A model port that answers `text`, or throws `error`. */
const modelAnswering = (outcome: { text?: string; error?: unknown }): LanguageModel => ({
  id: 'scripted',
  generate: () =>
    outcome.error !== undefined
      ? Promise.reject(outcome.error)
      : Promise.resolve({ text: outcome.text ?? '', model: 'scripted', latencyMs: 0 }),
});

describe('why a plan fell back', () => {
  const planWith = (outcome: { text?: string; error?: unknown }) =>
    createPlanner({ model: modelAnswering(outcome), timeoutMs: 1000 }).plan(
      'How should I plan my week?',
    );

  it('names off_schema, timeout, rate_limited and model_error, and nothing for a model plan', async () => {
    assert.equal((await planWith({ text: '{"nope":1}' })).plan.fallback, 'off_schema');
    assert.equal(
      (await planWith({ error: new AppError('timeout', 'slow') })).plan.fallback,
      'timeout',
    );
    assert.equal(
      (await planWith({ error: new AppError('rate_limited', 'quota') })).plan.fallback,
      'rate_limited',
    );
    assert.equal((await planWith({ error: new Error('boom') })).plan.fallback, 'model_error');
    const planned = await planWith({
      text: JSON.stringify({
        strategy: 'relevant_context',
        queries: ['week plan'],
        include_narrative: false,
        save_worthy: false,
      }),
    });
    assert.equal(planned.plan.source, 'model');
    assert.equal(planned.plan.fallback, undefined);
  });

  it('is counted on /metrics by reason', async () => {
    const metrics = createMetrics({});
    metrics.countPlanFallback('timeout');
    metrics.countPlanFallback('timeout');
    metrics.countPlanFallback('off_schema');
    const text = await metrics.render();
    assert.match(text, /context_plan_fallbacks_total\{reason="timeout"\} 2/);
    assert.match(text, /context_plan_fallbacks_total\{reason="off_schema"\} 1/);
  });
});

describe('the background planning of fallen-back messages on /metrics', () => {
  it('exports its counts by outcome, its failures by reason and its queue', async () => {
    const metrics = createMetrics({
      planBackfill: () => ({
        queued: 3,
        inFlight: 1,
        enqueued: 9,
        deduplicated: 2,
        dropped: 1,
        filled: 4,
        skipped: 1,
        failed: { rate_limited: 2 },
      }),
    });
    const text = await metrics.render();
    assert.match(text, /plan_backfill_total\{outcome="filled"\} 4/);
    assert.match(text, /plan_backfill_total\{outcome="enqueued"\} 9/);
    assert.match(text, /plan_backfill_failures_total\{reason="rate_limited"\} 2/);
    assert.match(text, /plan_backfill_queued 3/);
    assert.match(text, /plan_backfill_in_flight 1/);
  });

  it('exports nothing of it while it is off', async () => {
    const text = await createMetrics({ planBackfill: () => null }).render();
    assert.doesNotMatch(text, /plan_backfill_total\{/);
  });
});
