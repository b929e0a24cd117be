import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  isScored,
  loadLocomo,
  normalizeEvidence,
  parseLocomo,
  recallAtK,
  summarizeRecall,
  turnMemory,
} from '../../bench/locomo.ts';

const fixture = fileURLToPath(new URL('../fixtures/locomo-mini.json', import.meta.url));

describe('LoCoMo evidence recall@k', () => {
  // Results as the benchmark sees them: each result stands for the dia_ids of its memory.
  const results = [['D1:1'], ['D2:4'], [], ['D3:2', 'D3:7'], ['D1:5'], ['D4:1']];

  it('counts the share of evidence turns among the first k results', () => {
    assert.equal(recallAtK(['D1:1', 'D3:7'], results, 5), 1);
    assert.equal(recallAtK(['D1:1', 'D3:7'], results, 3), 0.5);
    assert.equal(recallAtK(['D1:1', 'D3:7', 'D9:9', 'D4:1'], results, 5), 0.5);
    assert.equal(recallAtK(['D1:1', 'D3:7', 'D9:9', 'D4:1'], results, 10), 0.75);
    assert.equal(recallAtK(['D9:9'], results, 10), 0);
  });

  it('counts a repeated evidence id once', () => {
    assert.equal(recallAtK(['D2:4', 'D2:4', 'D8:1'], results, 10), 0.5);
  });

  it('refuses a question without evidence rather than scoring it', () => {
    assert.throws(() => recallAtK([], results, 10), /without evidence/);
  });

  it('averages over questions, overall and per category', () => {
    const summary = summarizeRecall([
      { category: 1, at5: 0, at10: 0.5 },
      { category: 1, at5: 1, at10: 1 },
      { category: 4, at5: 0.5, at10: 1 },
    ]);
    assert.deepEqual(summary.overall, { questions: 3, at5: 0.5, at10: 0.833 });
    assert.deepEqual(summary.byCategory['1'], {
      name: 'multi-hop',
      questions: 2,
      at5: 0.5,
      at10: 0.75,
    });
    assert.equal(summary.byCategory['4']?.name, 'single-hop');
    assert.deepEqual(Object.keys(summary.byCategory), ['1', '4']);
  });
});

describe('LoCoMo loader', () => {
  it('splits joined evidence ids and drops malformed or unknown ones', () => {
    const known = new Set(['D1:18', 'D1:20', 'D8:6', 'D9:17']);
    assert.deepEqual(normalizeEvidence(['D8:6; D9:17'], known), {
      evidence: ['D8:6', 'D9:17'],
      dropped: [],
    });
    assert.deepEqual(normalizeEvidence(['D1:18', 'D', 'D1:20', 'D:11:26', 'D7:7'], known), {
      evidence: ['D1:18', 'D1:20'],
      dropped: ['D', 'D:11:26', 'D7:7'],
    });
  });

  it('reads the fixture into turns with session dates and scored questions', () => {
    const conversations = loadLocomo(fixture);
    assert.equal(conversations.length, 2);
    const [first] = conversations;
    assert.equal(first!.turns.length, 30);
    assert.deepEqual(first!.turns[0], {
      diaId: 'D1:1',
      session: 1,
      date: '9:15 am on 3 March, 2024',
      speaker: 'Priya',
      text: 'Morning Tomasz! I finally signed up for the pottery class at the community studio.',
    });
    const all = conversations.flatMap((c) => c.questions);
    assert.equal(all.filter(isScored).length, 14);
    assert.ok(all.filter(isScored).every((q) => q.category >= 1 && q.category <= 4));
    const joined = all.find((q) => q.question.startsWith("Why did Priya's first bowl"));
    assert.deepEqual(joined?.evidence, ['D2:1', 'D2:3']);
  });

  it('turns a turn into dated content with its photo, and dia_id metadata', () => {
    const turn = loadLocomo(fixture)[0]!.turns.find((t) => t.diaId === 'D1:7')!;
    assert.deepEqual(turnMemory(turn), {
      content:
        "[9:15 am on 3 March, 2024] Priya: She'll warm up to you. Look at the mug I glazed in a " +
        'trial session! (shares a photo: a photo of a blue ceramic mug on a wooden table)',
      metadata: { dia_id: 'D1:7', session: 1, speaker: 'Priya', date: '9:15 am on 3 March, 2024' },
    });
  });

  it('names the field that is wrong in a file that is not LoCoMo', () => {
    assert.throws(() => parseLocomo({}), /not LoCoMo format/);
    assert.throws(
      () => parseLocomo([{ sample_id: 'x', conversation: { speaker_a: 'A' }, qa: [] }]),
      /\[0\.conversation\.speaker_b\]/,
    );
    assert.throws(
      () =>
        parseLocomo([
          {
            sample_id: 'x',
            conversation: { speaker_a: 'A', speaker_b: 'B', session_1: [] },
            qa: [],
          },
        ]),
      /session_1_date_time is missing/,
    );
  });
});
