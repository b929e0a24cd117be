import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Narrative } from '../../core/ports/relational-store.ts';
import { createNarrativeCache } from '../../infra/db/narrative-cache.ts';

const portrait = (userId: string, version: number): Narrative => ({
  userId,
  version,
  content: `portrait ${version}`,
  dataVersion: version,
  model: 'test',
  createdAt: new Date(0),
});

describe('the narrative cache', () => {
  it('answers nothing until changes are heard, and forgets a user whose narratives change', () => {
    const cache = createNarrativeCache();
    cache.set('u1', portrait('u1', 1), cache.begin());
    assert.equal(cache.get('u1'), undefined);
    cache.listening();
    cache.set('u1', portrait('u1', 1), cache.begin());
    cache.set('u2', null, cache.begin());
    assert.equal(cache.get('u1')?.version, 1);
    assert.equal(cache.get('u2'), null, '"none yet" is remembered too');
    cache.heard('u1');
    assert.equal(cache.get('u1'), undefined);
    assert.equal(cache.get('u2'), null);
    cache.deaf();
    assert.equal(cache.get('u2'), undefined);
  });

  it('does not remember a read that was in flight when a change was heard', () => {
    const cache = createNarrativeCache();
    cache.listening();
    const startedAt = cache.begin();
    cache.heard('u1');
    cache.set('u1', portrait('u1', 1), startedAt);
    assert.equal(cache.get('u1'), undefined);
  });

  it('keeps the users read lately when full', () => {
    const cache = createNarrativeCache(2);
    cache.listening();
    cache.set('u1', portrait('u1', 1), cache.begin());
    cache.set('u2', portrait('u2', 1), cache.begin());
    assert.ok(cache.get('u1'));
    cache.set('u3', portrait('u3', 1), cache.begin());
    assert.ok(cache.get('u1'));
    assert.equal(cache.get('u2'), undefined);
    assert.ok(cache.get('u3'));
  });
});
