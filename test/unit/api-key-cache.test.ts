import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyCache } from '../../infra/db/api-key-cache.ts';

const alice = { userId: 'u-alice', keyId: 'k-alice' };

describe('the API key cache', () => {
  it('answers a remembered key, and forgets it when revoked', () => {
    const keys = createKeyCache(true);
    assert.equal(keys.get('h1'), undefined);
    keys.set('h1', alice, keys.begin());
    assert.deepEqual(keys.get('h1'), alice);
    keys.revoked('k-alice');
    assert.equal(keys.get('h1'), undefined);
  });

  it('does not remember a lookup that was in flight when a key was revoked', () => {
    const keys = createKeyCache(true);
    const startedAt = keys.begin();
    keys.revoked('k-alice');
    keys.set('h1', alice, startedAt);
    assert.equal(keys.get('h1'), undefined);
  });

  it('remembers unknown keys as unknown', () => {
    const keys = createKeyCache(true);
    keys.set('nobody', null, keys.begin());
    assert.equal(keys.get('nobody'), null);
  });

  it('answers nothing from memory until revocations are heard, and empties when they stop', () => {
    const keys = createKeyCache(false);
    keys.set('h1', alice, keys.begin());
    assert.equal(keys.get('h1'), undefined, 'not usable before listening');
    keys.listening();
    keys.set('h1', alice, keys.begin());
    assert.deepEqual(keys.get('h1'), alice);
    const startedAt = keys.begin();
    keys.deaf();
    assert.equal(keys.usable, false);
    assert.equal(keys.get('h1'), undefined);
    keys.listening();
    assert.equal(keys.get('h1'), undefined, 'emptied: a revocation may have been missed');
    keys.set('h1', alice, startedAt);
    assert.equal(keys.get('h1'), undefined, 'a lookup from before the gap is not remembered');
  });
});
