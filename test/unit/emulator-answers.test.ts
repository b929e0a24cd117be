import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEntityExtractor } from '../../core/extraction/entity-extractor.ts';
import { createNarrator } from '../../core/narrative/narrator.ts';
import { createPlanner } from '../../core/planning/planner.ts';
import type { GenerateInput, LanguageModel } from '../../core/ports/language-model.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import {
  productAnswer,
  recognisePrompt,
  type EmulatorGenerateRequest,
} from '../../tools/gemini-emulator/emulator.ts';

const request = (input: GenerateInput): EmulatorGenerateRequest => ({
  model: 'gemini-2.5-flash',
  apiVersion: 'v1beta',
  prompt: input.prompt,
  system: input.system,
  json: input.json ?? false,
  temperature: input.temperature,
  body: {},
});

/** The product's own prompts, answered as the emulator answers them by default (no HTTP). */
function emulatedModel(seen: GenerateInput[] = []): LanguageModel {
  return {
    id: 'gemini:emulated',
    generate: (input) => {
      seen.push(input);
      return Promise.resolve({ text: productAnswer(request(input)), model: 'emulated', latencyMs: 0 }); // prettier-ignore
    },
  };
}

const memory = (content: string, day: number): Memory => ({
  id: `00000000-0000-4000-8000-${String(day).padStart(12, '0')}`,
  userId: 'u',
  content,
  tags: [],
  metadata: {},
  state: 'active',
  indexState: 'indexed',
  revision: 1,
  createdAt: new Date(Date.UTC(2026, 0, day)),
  updatedAt: new Date(Date.UTC(2026, 0, day)),
  occurredAt: new Date(Date.UTC(2026, 0, day)),
  expiresAt: null,
});

describe("the emulator's default answers to the product's prompts", () => {
  it("answers the planner's prompt with a plan the planner accepts", async () => {
    const seen: GenerateInput[] = [];
    const planner = createPlanner({ model: emulatedModel(seen), timeoutMs: 1000 });
    const outcome = await planner.plan(
      'How has my marathon training with Coach Rivera changed since the spring?',
    );
    assert.equal(recognisePrompt(request(seen[0]!)), 'plan');
    assert.equal(outcome.plan.source, 'model', outcome.fallbackReason);
    assert.equal(outcome.plan.strategy, 'comprehensive_analysis');
    assert.equal(outcome.plan.includeNarrative, true);
    assert.ok(outcome.plan.queries.length >= 1 && outcome.plan.queries.length <= 3);
    assert.ok(outcome.plan.queries.some((q) => q.includes('Coach Rivera')));
  });

  it('plans a plain lookup as relevant_context, and marks a self-disclosure as worth saving', async () => {
    const planner = createPlanner({ model: emulatedModel(), timeoutMs: 1000 });
    const lookup = await planner.plan('Which restaurant did we book for Friday night?');
    assert.equal(lookup.plan.source, 'model');
    assert.equal(lookup.plan.strategy, 'relevant_context');
    assert.equal(lookup.plan.saveWorthy, false);
    const disclosure = await planner.plan(
      "I've just started a new job as a nurse at the city hospital and I love the night shifts",
    );
    assert.equal(disclosure.plan.source, 'model');
    assert.equal(disclosure.plan.saveWorthy, true);
  });

  it("answers the extractor's prompt with typed entities and the relations a verb states", async () => {
    const extractor = createEntityExtractor({ model: emulatedModel(), timeoutMs: 1000 });
    const { graph, modelCalls } = await extractor.extract(
      'My sister Maria Silva works at Acme Labs in Lisbon.',
    );
    assert.equal(modelCalls, 1);
    assert.deepEqual(graph.entities, [
      { name: 'Maria Silva', type: 'person' },
      { name: 'Acme Labs', type: 'organization' },
      { name: 'Lisbon', type: 'place' },
    ]);
    assert.deepEqual(graph.relations, [{ from: 'Maria Silva', to: 'Acme Labs', type: 'WORKS_AT' }]);
  });

  it('answers a batch of memories in one extraction prompt with one graph per memory', () => {
    const system =
      'The prompt is a JSON array of memories. Answer with JSON only: {"memories":[{"id":1,"entities":[],"relations":[]}]}';
    const prompt = JSON.stringify([
      { id: 1, text: 'My sister Maria Silva works at Acme Labs in Lisbon.' },
      { id: 2, text: 'Tom lives in Porto.' },
    ]);
    const answer = JSON.parse(productAnswer(request({ system, prompt, json: true }))) as {
      memories: { id: number; entities: { name: string; type: string }[] }[];
    };
    assert.deepEqual(
      answer.memories.map((m) => [m.id, m.entities.map((e) => `${e.name}:${e.type}`)]),
      [
        [1, ['Maria Silva:person', 'Acme Labs:organization', 'Lisbon:place']],
        [2, ['Tom:person', 'Porto:place']],
      ],
    );
  });

  it("answers the narrator's prompt with a portrait of 3 to 4 paragraphs from the memories", async () => {
    const narrator = createNarrator({ model: emulatedModel(), timeoutMs: 1000 });
    const draft = await narrator.write([
      memory("I'm a violin teacher in Ghent", 1),
      memory('Working on a project to record my students for a spring concert', 5),
      memory('I prefer short, direct answers without small talk', 9),
      memory('My students are preparing the spring concert in April', 12),
    ]);
    assert.equal(draft.model, 'gemini:emulated');
    assert.equal(draft.fallbackReason, undefined);
    const paragraphs = draft.content.split('\n\n');
    assert.ok(paragraphs.length >= 3 && paragraphs.length <= 4, draft.content);
    assert.match(draft.content, /They're a violin teacher in Ghent\./);
    assert.match(draft.content, /They prefer short, direct answers/);
    assert.match(draft.content, /they saved 4 memories between 2026-01-01 and 2026-01-12/);
    assert.doesNotMatch(draft.content, /^#|\*\*/m, 'plain text, no headings');
  });

  it('echoes a prompt that is not one of the product’s', () => {
    const echo = productAnswer(request({ prompt: 'Where did I park the car?' }));
    assert.match(echo, /^Emulated answer from gemini-2.5-flash: Where did I park the car\?/);
    const json = JSON.parse(
      productAnswer(
        request({ system: 'Plan the query.', prompt: 'What did Ana say?', json: true }),
      ),
    ) as Record<string, unknown>;
    assert.equal(json.emulated, true);
  });
});
