import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeMessage } from '../../core/cache/cache-keys.ts';
import { localExtract } from '../../core/extraction/entity-extractor.ts';
import { decodeCursor, encodeCursor } from '../../infra/db/sql-rows.ts';

// A backtracking `…+$` pattern retries such a run from each of its characters: these
// inputs would take hours with one, and give the same answers as short ones with a loop.
const RUN = 100_000;

describe('trimming trailing punctuation in one pass', () => {
  it('normalizes a message ending in a long punctuation run', () => {
    assert.equal(normalizeMessage(`where is my dog${'?!'.repeat(RUN / 2)}`), 'where is my dog');
  });

  it('keeps a long punctuation run that a letter ends', () => {
    const message = `${'!'.repeat(RUN)}x`;
    assert.equal(normalizeMessage(message), message);
  });

  it('keeps a message made only of punctuation, and trims punctuation outside the BMP', () => {
    assert.equal(normalizeMessage('.'.repeat(RUN)), '.'.repeat(RUN));
    assert.equal(normalizeMessage('hello \u{10100}\u{10100}'), 'hello');
  });
});

describe('trimming trailing apostrophes and hyphens of entity names in one pass', () => {
  it('finds the name before a long run of marks', () => {
    const graph = localExtract(`Then Lisbon${"'".repeat(RUN)} was sunny`);
    assert.deepEqual(graph.entities, [{ name: 'Lisbon', type: 'thing' }]);
  });

  it('keeps a long run of marks that a letter ends', () => {
    const name = `Ana${'-'.repeat(RUN)}b`;
    assert.deepEqual(localExtract(`${name} called`).entities, [{ name, type: 'thing' }]);
  });
});

describe('listing cursors', () => {
  const id = '6f1c2a3e-1b2c-4d5e-8f90-0123456789ab';
  const cursor = (time: string) => encodeCursor(time, id);

  it('decodes what the database writes', () => {
    const time = '2026-12-06T05:09:27.123456Z';
    assert.deepEqual(decodeCursor(cursor(time)), { createdAt: time, id });
  });

  it('refuses times Date.parse takes but PostgreSQL refuses or reads otherwise', () => {
    for (const time of [
      '0000-01-01T00:00:00.000000Z',
      '2026-02-30T00:00:00.000000Z',
      '2026-12-06T24:00:00.000000Z',
      '2026-12-06',
      '2026-12-06T05:09:27Z',
      '+275760-09-13T00:00:00.000Z',
      'Sun Dec 06 2026',
      '2026-12-06T05:09:27.123456Z|extra',
    ]) {
      assert.throws(
        () => decodeCursor(cursor(time)),
        /cursor: not a cursor this API returned/,
        time,
      );
    }
    assert.throws(() => decodeCursor('%%%'), /cursor/);
  });
});
