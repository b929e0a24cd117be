import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNarrator } from '../../core/narrative/narrator.ts';
import { createPlanner } from '../../core/planning/planner.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import { localModelAdapters, useEmulatedModel } from '../support/emulated-model.ts';

const memories: Memory[] = [
  {
    id: '00000000-0000-4000-8000-000000000001',
    userId: 'u',
    content: "I'm a violin teacher in Ghent",
    tags: [],
    metadata: {},
    state: 'active',
    indexState: 'indexed',
    revision: 1,
    createdAt: new Date('2026-03-01T00:00:00Z'),
    updatedAt: new Date('2026-03-01T00:00:00Z'),
    occurredAt: new Date('2026-03-01T00:00:00Z'),
    expiresAt: null,
  },
];

const goodPlan = JSON.stringify({
  strategy: 'deep_understanding',
  queries: ['violin teaching', 'students'],
  include_narrative: true,
  save_worthy: false,
});

describe('planner and narrator over the real Gemini client and the emulator', () => {
  const { emulator, adapters } = useEmulatedModel();

  it('selects Gemini adapters when a base URL is configured', () => {
    assert.equal(adapters.model?.id.startsWith('gemini'), true);
    assert.equal(adapters.embedder.dimension, 64);
  });

  it('uses the model plan when the model answers in schema', async () => {
    emulator.configure({ responder: () => goodPlan });
    const outcome = await createPlanner({ model: adapters.model, timeoutMs: 5000 }).plan(
      'how are my students doing?',
    );
    assert.equal(outcome.plan.source, 'model');
    assert.deepEqual(outcome.plan.queries, ['violin teaching', 'students']);
    assert.equal(outcome.modelCalls, 1);
  });

  it('falls back to the heuristic plan when the model answers off-schema', async () => {
    emulator.configure({ responder: () => '{"strategy": "guess"}' });
    const outcome = await createPlanner({ model: adapters.model, timeoutMs: 5000 }).plan('hi');
    assert.equal(outcome.plan.source, 'heuristic');
    assert.match(outcome.fallbackReason ?? '', /off-schema/);
  });

  it('falls back to the heuristic plan when the model is rate limited', async () => {
    emulator.configure({ methods: { generateContent: { failures: { rateLimited: 1 } } } });
    const outcome = await createPlanner({ model: adapters.model, timeoutMs: 5000 }).plan('hi');
    assert.equal(outcome.plan.source, 'heuristic');
    assert.equal(outcome.fallbackReason, 'rate_limited');
  });

  it('falls back to the heuristic plan when the model does not answer in time', async () => {
    emulator.configure({ methods: { generateContent: { failures: { timeout: 1 } } } });
    const outcome = await createPlanner({ model: adapters.model, timeoutMs: 200 }).plan('hi');
    assert.equal(outcome.plan.source, 'heuristic');
    assert.equal(outcome.fallbackReason, 'timeout');
  });

  it('writes the narrative with the model, and locally when the model fails', async () => {
    const narrative = 'A violin teacher in Ghent who cares about her students. '.repeat(3);
    emulator.configure({ responder: () => narrative });
    const narrator = createNarrator({ model: adapters.model, timeoutMs: 5000 });
    const drafted = await narrator.write(memories);
    assert.equal(drafted.content, narrative.trim());
    assert.equal(drafted.model, adapters.model?.id);

    emulator.configure({ methods: { generateContent: { failures: { serverError: 1 } } } });
    const fallback = await narrator.write(memories);
    assert.equal(fallback.model, 'local');
    assert.match(fallback.content, /violin teacher in Ghent/);
  });

  it('embeds through the emulator with the configured dimension', async () => {
    const [a, b] = await adapters.embedder.embed(['violin lessons', 'violin lessons']);
    assert.equal(a?.length, 64);
    assert.deepEqual(a, b);
  });
});

describe('model adapters with nothing configured', () => {
  it('has no model and embeds locally', async () => {
    const adapters = await localModelAdapters();
    assert.equal(adapters.model, null);
    assert.equal(adapters.embedder.id, 'local:e5-small-v2-q@384');
    await adapters.close();
  });
});
