import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  loadRetrieved,
  saveRetrieved,
  type RetrievedSet,
} from '../../bench/quality/tune/retrieved.ts';
import { memoryTime, parseQueryTime } from '../../core/retrieval/time-signal.ts';

const content = '[8 May, 2023] Caroline: I went to a support group yesterday.';
const savedAt = '2026-12-06T10:00:00.000Z';

/** A one-question set as `tune:fusion` saves it, with times the file must not be trusted for. */
function set(): RetrievedSet {
  const wrong = { at: { from: 0, to: 1 }, mentions: [] };
  return {
    embedder: 'test',
    askedAt: savedAt,
    questions: [
      {
        conversation: 'c',
        category: 2,
        question: 'When did Caroline go to the support group?',
        evidence: ['D1:1'],
        vector: ['m'],
        lexical: ['m'],
        ofTheTime: [],
        graph: [],
        asked: { asksWhen: false, spans: [], yearless: [] },
      },
    ],
    memories: {
      c: { m: { diaIds: ['D1:1'], content, createdAt: savedAt, occurredAt: null, time: wrong } },
    },
  };
}

describe("the tuning's saved answers", () => {
  it("read memories' and questions' times again on load, with this checkout's time signal", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tune-cache-')), 'set.json');
    saveRetrieved(file, set());
    const loaded = loadRetrieved(file);
    const question = loaded.questions[0]!;
    assert.deepEqual(
      loaded.memories.c!.m!.time,
      memoryTime({ content, createdAt: new Date(savedAt), occurredAt: null }),
    );
    assert.deepEqual(question.asked, parseQueryTime(question.question, Date.parse(savedAt)));
    assert.equal(question.asked.asksWhen, true);
  });

  it('loads a set saved before the named-time search with none for every question', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tune-cache-')), 'older.json');
    const older = set() as unknown as { questions: Record<string, unknown>[] };
    delete older.questions[0]!.ofTheTime;
    fs.writeFileSync(file, JSON.stringify(older));
    assert.deepEqual(loadRetrieved(file).questions[0]!.ofTheTime, []);
  });

  it('refuses a set saved without its memories’ content, which cannot be read again', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tune-cache-')), 'old.json');
    const old = set() as unknown as { memories: { c: { m: Record<string, unknown> } } };
    delete old.memories.c.m.content;
    fs.writeFileSync(file, JSON.stringify(old));
    assert.throws(() => loadRetrieved(file), /retrieve again/);
  });
});
