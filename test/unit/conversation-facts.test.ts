import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_CONVERSATION_WRITES,
  planChanges,
} from '../../core/conversations/conversation-changes.ts';
import type {
  ConversationMessage,
  ExtractedFact,
} from '../../core/conversations/conversation-types.ts';
import {
  localFacts,
  normalisedFact,
  splitSentences,
} from '../../core/conversations/local-facts.ts';
import { modelFacts } from '../../core/conversations/model-facts.ts';
import type { LanguageModel } from '../../core/ports/language-model.ts';
import type { Memory } from '../../core/ports/relational-store.ts';
import { productAnswer, recognisePrompt } from '../../tools/gemini-emulator/emulator.ts';

const memory = (id: number, content: string, revision = 1): Memory => ({
  id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
  userId: 'u',
  content,
  tags: [],
  metadata: {},
  state: 'active',
  indexState: 'indexed',
  revision,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
  occurredAt: new Date('2026-01-01T00:00:00Z'),
  expiresAt: null,
});

const user = (content: string): ConversationMessage => ({ role: 'user', content });

/** A model that answers as the Gemini emulator does by default (its responder, no HTTP). */
const emulated = (answer?: string): LanguageModel => ({
  id: 'gemini:emulated',
  generate: (input) => {
    const request = { model: 'm', apiVersion: 'v1beta', prompt: input.prompt, system: input.system, json: true, temperature: 0, body: {} }; // prettier-ignore
    assert.equal(recognisePrompt(request), 'conversation');
    return Promise.resolve({ text: answer ?? productAnswer(request), model: 'm', latencyMs: 0 });
  },
});

describe('the sentences of a message', () => {
  it('are cut at sentence ends and line breaks, not inside abbreviations or numbers', () => {
    assert.deepEqual(
      splitSentences(
        'Hi! My dentist is Dr. Ames; she is great... It costs 3.5 euros?\nI live in Ghent',
      ),
      [
        'Hi!',
        'My dentist is Dr. Ames;',
        'she is great...',
        'It costs 3.5 euros?',
        'I live in Ghent',
      ],
    );
  });

  it('take time in proportion to the text, however much punctuation it runs', () => {
    const started = performance.now();
    assert.equal(splitSentences(`${'.'.repeat(50_000)}x`).length, 1);
    assert.equal(splitSentences('a. '.repeat(20_000)).length, 20_000);
    assert.ok(performance.now() - started < 2000);
  });

  it('compare equal, normalised, however they are cased, spaced or punctuated', () => {
    assert.equal(
      normalisedFact('  My cat’s name is  Biscuit! '),
      normalisedFact("my cat's name is biscuit"),
    );
    assert.notEqual(normalisedFact('I live in Porto'), normalisedFact('I live in Lisbon'));
  });
});

describe("the classifier's save rule over a conversation", () => {
  it("keeps the user's statements and remember-requests, never an assistant's", () => {
    const { facts, skipped } = localFacts([
      user('Hey. Remember that my wife’s name is Ana. Can you book a table?'),
      { role: 'assistant', content: 'I live in the cloud.' },
      user('I moved to Lisbon'),
    ]);
    assert.deepEqual(
      facts.map((f) => [f.message, f.content]),
      [
        [0, 'My wife’s name is Ana.'],
        [2, 'I moved to Lisbon'],
      ],
    );
    assert.deepEqual(
      skipped.map((s) => [s.reason, s.content]),
      [
        ['not_memorable', 'Hey.'],
        ['not_memorable', 'Can you book a table?'],
      ],
    );
  });
});

describe('planning the write', () => {
  const messages = [user('I live in Lisbon. I live in Lisbon! My dog is Pico.'), user('x')];
  const porto = memory(1, 'I live in Porto', 3);
  const dog = memory(2, 'my dog is pico');

  it('updates a candidate at the revision it was shown, repeats what a candidate says, and follows earlier facts', () => {
    const facts: ExtractedFact[] = [
      { content: 'I live in Lisbon.', message: 0, action: 'update', memoryId: porto.id },
      { content: 'I live in Lisbon!', message: 0, action: 'add' },
      { content: 'My dog is Pico.', message: 0, action: 'add' },
      { content: 'I have a cat.', message: 0, action: 'update', memoryId: porto.id },
      { content: 'Said by the assistant', message: 5, action: 'add' },
    ];
    const planned = planChanges(facts, { messages }, [porto, dog]);
    assert.deepEqual(planned.changes.updates, [
      { memoryId: porto.id, revision: 3, content: 'I live in Lisbon.' },
    ]);
    assert.deepEqual(
      planned.changes.inserts.map((i) => i.content),
      ['I have a cat.'],
      'a second update of one memory is an add',
    );
    assert.deepEqual(
      planned.skipped.map((s) => [s.reason, s.memoryId]),
      [
        ['repeat', dog.id],
        ['not_a_user_turn', undefined],
      ],
    );
    assert.deepEqual(
      planned.slots.map((s) => s.kind),
      ['update', 'again', 'insert'],
    );
  });

  it(`writes at most ${MAX_CONVERSATION_WRITES} memories and says which facts it left`, () => {
    const many = Array.from({ length: MAX_CONVERSATION_WRITES + 2 }, (_, i) => ({
      content: `I own bike number ${i}`,
      message: 0,
      action: 'add' as const,
    }));
    const planned = planChanges(many, { messages }, []);
    assert.equal(planned.changes.inserts.length, MAX_CONVERSATION_WRITES);
    assert.deepEqual(
      planned.skipped.map((s) => s.reason),
      ['too_many_facts', 'too_many_facts'],
    );
  });
});

describe("the model's facts, as the emulator answers the product's prompt", () => {
  const conversation = [
    user('I live in Lisbon now. My sister Lena lives in Porto.'),
    { role: 'assistant' as const, content: 'I am vegetarian.' },
    user('I started rowing, so I need new shoes.'),
  ];

  it('are well formed: repeats, updates and adds decided against the candidates shown', async () => {
    const candidates = [memory(1, 'I live in Porto'), memory(2, 'My sister Lena lives in Porto')];
    const outcome = await modelFacts(emulated(), {
      messages: conversation,
      candidates,
      maxChars: 5000,
      timeoutMs: 1000,
    });
    assert.ok('facts' in outcome, JSON.stringify(outcome));
    assert.deepEqual(
      outcome.facts.map((f) => [f.action, f.message, f.content, f.memoryId]),
      [
        ['update', 0, 'I live in Lisbon now.', candidates[0]!.id],
        ['repeat', 0, 'My sister Lena lives in Porto.', candidates[1]!.id],
        ['add', 2, 'I started rowing', undefined],
      ],
    );
  });

  it('turn an id the model was not shown into an add, and off-schema answers into a fallback', async () => {
    const foreign = JSON.stringify({
      facts: [{ content: 'I live in Rome', message: 0, action: 'update', memory_id: 'not-shown' }],
    });
    const outcome = await modelFacts(emulated(foreign), {
      messages: conversation,
      candidates: [memory(1, 'I live in Porto')],
      maxChars: 5000,
      timeoutMs: 1000,
    });
    assert.deepEqual('facts' in outcome && outcome.facts, [
      { content: 'I live in Rome', message: 0, action: 'add' },
    ]);
    for (const answer of [
      'not json',
      '{"facts": [{"content": "x", "message": 0, "action": "update"}]}',
      JSON.stringify({ facts: [{ content: 'nul \u0000', message: 0, action: 'add' }] }),
      JSON.stringify({ facts: [{ content: 'x'.repeat(5001), message: 0, action: 'add' }] }),
    ]) {
      const off = await modelFacts(emulated(answer), {
        messages: conversation,
        candidates: [],
        maxChars: 5000,
        timeoutMs: 1000,
      });
      assert.equal('fallback' in off && off.fallback, 'off_schema', answer.slice(0, 60));
    }
  });
});
