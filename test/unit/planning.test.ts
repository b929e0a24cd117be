import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heuristicPlan } from '../../core/planning/heuristic-planner.ts';
import { createPlanner } from '../../core/planning/planner.ts';
import { localNarrative, createNarrator } from '../../core/narrative/narrator.ts';
import type { Memory } from '../../core/ports/relational-store.ts';

const memory = (content: string, day: number, tags: string[] = []): Memory => ({
  id: `00000000-0000-4000-8000-${String(day).padStart(12, '0')}`,
  userId: 'u',
  content,
  tags,
  metadata: {},
  state: 'active',
  indexState: 'indexed',
  revision: 1,
  createdAt: new Date(Date.UTC(2026, 0, day)),
  updatedAt: new Date(Date.UTC(2026, 0, day)),
  occurredAt: new Date(Date.UTC(2026, 0, day)),
  expiresAt: null,
});

describe('heuristic planner', () => {
  it('plans a plain lookup as relevant_context searching for the message', () => {
    const plan = heuristicPlan('Which restaurant did I book for Friday?');
    assert.equal(plan.strategy, 'relevant_context');
    assert.equal(plan.queries[0], 'Which restaurant did I book for Friday?');
    assert.equal(plan.source, 'heuristic');
    assert.ok(plan.queries.length >= 1 && plan.queries.length <= 3);
  });

  it('plans a reflective question as deep understanding with the narrative', () => {
    const plan = heuristicPlan(
      'Why do I keep procrastinating on my thesis, and how should I change?',
    );
    assert.equal(plan.strategy, 'deep_understanding');
    assert.equal(plan.includeNarrative, true);
  });

  it('marks a self-disclosure as worth saving', () => {
    assert.equal(heuristicPlan("I'm allergic to peanuts, remember that").saveWorthy, true);
    assert.equal(heuristicPlan('what is the weather like').saveWorthy, false);
    // Questions and requests that mention the user ask; they tell nothing to keep.
    for (const asking of [
      'How can I balance running with my job at Acme without burning out?',
      'Help me prepare for my trip to Lisbon in May, considering what I like.',
      'Can you suggest a weekly plan that fits my job and my dog?',
      'Based on my habits, how could I sleep better?',
      'do you know where I work',
    ]) {
      assert.equal(heuristicPlan(asking).saveWorthy, false, asking);
    }
    for (const telling of [
      'I moved to Porto last month.',
      'My dog is called Rex, remember that',
      'Quick one: I work at Acme now. Can you help me plan my week?',
    ]) {
      assert.equal(heuristicPlan(telling).saveWorthy, true, telling);
    }
  });

  it('is deterministic', () => {
    assert.deepEqual(
      heuristicPlan('how did my training change'),
      heuristicPlan('how did my training change'),
    );
  });
});

describe('planner without a model', () => {
  it('uses the heuristic and makes no model call', async () => {
    const outcome = await createPlanner({ model: null, timeoutMs: 100 }).plan('hello there');
    assert.equal(outcome.plan.source, 'heuristic');
    assert.equal(outcome.modelCalls, 0);
    assert.equal(outcome.fallbackReason, undefined);
  });
});

describe('local narrator', () => {
  it('writes four paragraphs from the memories without a model', async () => {
    const memories = [
      memory("I'm a nurse and I live in Porto", 1, ['work']),
      memory('Working on a launch plan for my bakery startup', 5, ['work']),
      memory('I prefer short, direct answers', 7, ['style']),
    ];
    const draft = await createNarrator({ model: null, timeoutMs: 100 }).write(memories);
    assert.equal(draft.model, 'local');
    assert.equal(draft.modelCalls, 0);
    const paragraphs = draft.content.split('\n\n');
    assert.equal(paragraphs.length, 4);
    assert.match(paragraphs[0]!, /nurse/);
    assert.match(paragraphs[1]!, /bakery/);
    assert.match(paragraphs[2]!, /short, direct/);
    assert.match(
      paragraphs[3]!,
      /3 memories from 2026-01-01 to 2026-01-07, mostly about work, style/,
    );
  });

  it('says nothing is known for a user without memories', () => {
    assert.equal(localNarrative([]), 'Nothing is known about this user yet.');
  });
});
