import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheKey, normalizeMessage, userIdOfKey } from '../../core/cache/cache-keys.ts';

const ALICE = '6f1c2a3e-1b2c-4d5e-8f90-0123456789ab';
const BOB = '0b7d9e21-3c4d-4e5f-9a0b-fedcba987654';

describe('normalizeMessage', () => {
  it('gives trivially different messages one form: case, spacing, quotes, width, trailing punctuation', () => {
    const forms = [
      "What's my dog's name?",
      "  what's   MY dog's\tname ",
      'What’s my dog’s name?!',
      "WHAT'S MY DOG'S NAME...",
      'Ｗｈａｔ’ｓ my dog’s name？',
    ].map(normalizeMessage);
    assert.deepEqual(new Set(forms), new Set(["what's my dog's name"]));
  });

  it('keeps differences that change the meaning', () => {
    assert.notEqual(normalizeMessage('my dog'), normalizeMessage('my dogs'));
    assert.notEqual(normalizeMessage('is it?'), normalizeMessage('is it, really?'));
  });

  it('keeps a message made only of punctuation, so "?" and "!" stay apart', () => {
    assert.equal(normalizeMessage(' ? '), '?');
    assert.notEqual(normalizeMessage('?'), normalizeMessage('!'));
  });
});

describe('cacheKey', () => {
  const planKey = (userId: string, version: number, message: string) =>
    cacheKey('plan', userId, version, normalizeMessage(message));

  it('gives trivially different messages of one user the same key', () => {
    assert.equal(planKey(ALICE, 3, 'Where do I live?'), planKey(ALICE, 3, '  where do i   LIVE '));
  });

  it('gives another key after a data-version bump, for another user, or for the other kind', () => {
    const key = planKey(ALICE, 3, 'where do I live');
    assert.notEqual(planKey(ALICE, 4, 'where do I live'), key);
    assert.notEqual(planKey(BOB, 3, 'where do I live'), key);
    assert.notEqual(cacheKey('search', ALICE, 3, normalizeMessage('where do I live')), key);
    assert.notEqual(planKey(ALICE, 3, 'where do I work'), key);
  });

  it('keeps the user and version readable in a short prefix, whatever the message length', () => {
    const key = planKey(ALICE, 42, 'a long message '.repeat(1_000));
    assert.ok(key.startsWith(`plan:${ALICE}:v42:`), key);
    assert.ok(key.length < 100, `key of ${key.length} characters`);
    assert.equal(userIdOfKey(key), ALICE);
  });

  it('ignores the order of filter fields but not their values', () => {
    const a = cacheKey('search', ALICE, 1, 'tea', { tag: 'food', limit: 5, from: new Date(0) });
    const b = cacheKey('search', ALICE, 1, 'tea', { from: new Date(0), limit: 5, tag: 'food' });
    const c = cacheKey('search', ALICE, 1, 'tea', { tag: 'work', limit: 5, from: new Date(0) });
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('cannot be steered into another key by parts that look like separators', () => {
    assert.notEqual(cacheKey('search', ALICE, 1, 'a', 'b'), cacheKey('search', ALICE, 1, 'a:b'));
    assert.notEqual(
      cacheKey('search', ALICE, 1, ['a', 'b']),
      cacheKey('search', ALICE, 1, 'a', 'b'),
    );
  });

  it('reads back a user id that holds the separator', () => {
    const key = cacheKey('plan', 'tenant:7', 0, 'hello');
    assert.equal(key.split(':').length, 4);
    assert.equal(userIdOfKey(key), 'tenant:7');
    assert.equal(userIdOfKey('not-a-cache-key'), null);
    assert.equal(userIdOfKey('plan:x:v1'), null);
  });

  it('refuses a missing user id or a data version that is not a count', () => {
    assert.throws(() => cacheKey('plan', '', 0, 'x'));
    assert.throws(() => cacheKey('plan', ALICE, -1, 'x'));
    assert.throws(() => cacheKey('plan', ALICE, 1.5, 'x'));
  });
});
