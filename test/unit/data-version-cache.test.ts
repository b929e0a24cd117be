import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVersionCache, parseVersionNotice } from '../../infra/db/data-version-cache.ts';

const USER = '3f2c1d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

/** A cache that hears changes (LISTEN in place). */
function listening() {
  const versions = createVersionCache();
  versions.listening();
  return versions;
}

describe('the data version cache', () => {
  it('answers nothing until changes are heard, and nothing once they may be missed', () => {
    const versions = createVersionCache();
    versions.set(USER, 3, versions.begin());
    versions.heard(`${USER}:4`);
    assert.equal(versions.get(USER), undefined);
    versions.listening();
    versions.set(USER, 4, versions.begin());
    assert.equal(versions.get(USER), 4);
    versions.deaf();
    assert.equal(versions.get(USER), undefined);
    versions.listening();
    assert.equal(versions.get(USER), undefined, 'starts empty after a reconnect');
  });

  it('follows the changes it hears, and never goes back to an older version', () => {
    const versions = listening();
    versions.set(USER, 3, versions.begin());
    versions.heard(`${USER}:5`);
    assert.equal(versions.get(USER), 5);
    // A read that started before the change and answers after it.
    versions.set(USER, 4, versions.begin());
    assert.equal(versions.get(USER), 5);
    versions.heard(`${USER}:4`);
    assert.equal(versions.get(USER), 5);
  });

  it('keeps a change heard for a user not yet read, so an older read in flight cannot win', () => {
    const versions = listening();
    const startedAt = versions.begin();
    versions.heard(`${USER}:8`);
    versions.set(USER, 7, startedAt);
    assert.equal(versions.get(USER), 8);
  });

  it('does not remember a read that was in flight when the cache was emptied', () => {
    const versions = listening();
    const startedAt = versions.begin();
    versions.deaf();
    versions.listening();
    versions.set(USER, 2, startedAt);
    assert.equal(versions.get(USER), undefined);
  });

  it('ignores malformed notifications', () => {
    for (const bad of [
      '',
      ':',
      `${USER}`,
      `${USER}:`,
      `${USER}:-1`,
      `${USER}:1.5`,
      ':3',
      `${USER}:x`,
    ]) {
      assert.equal(parseVersionNotice(bad), null, JSON.stringify(bad));
    }
    assert.deepEqual(parseVersionNotice(`${USER}:12`), { userId: USER, version: 12 });
    const versions = listening();
    versions.heard(`${USER}:nope`);
    assert.equal(versions.get(USER), undefined);
  });
});
