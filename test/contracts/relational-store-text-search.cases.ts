import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { SCAN_MAX } from '../../infra/db/sql-text-search.ts';

/**
 * Full-text search of a user with more memories than the store reads row by
 * row ({@link SCAN_MAX}): those go through the full-text index, and must find
 * what the same search finds for a small user. Called inside the
 * relational-store contract, so every adapter runs it.
 */
export function textSearchCases(store: RelationalStore): void {
  it('finds the same memories, in score order, for a user past the row-by-row limit', async () => {
    const big = await store.createUser({});
    const small = await store.createUser({});
    const filler = Array.from({ length: SCAN_MAX }, (_, i) => ({ content: `Plain note ${i} about lunch` })); // prettier-ignore
    const wanted = [
      { content: 'Went hiking in the Alps with my sister', tags: ['travel'] },
      { content: 'My sister lives in Lisbon and teaches maths', tags: ['family'] },
      { content: 'Hiking boots need new laces' },
    ];
    const saved = await store.insertMemories(big.id, [...filler, ...wanted]);
    const [alps, lisbon, boots] = saved.slice(SCAN_MAX).map((s) => s.memory.id);
    await store.updateMemory(big.id, boots!, { state: 'archived' });
    await store.insertMemories(small.id, [{ content: 'Hiking in Lisbon, hiking every day' }]);

    const [hiking, sister, tagged, foreign] = await store.searchText([
      { userId: big.id, query: 'Where did I go hiking?', limit: 10 },
      { userId: big.id, query: 'sister in Lisbon', limit: 10 },
      { userId: big.id, query: 'sister', limit: 10, tags: ['family'] },
      { userId: small.id, query: 'hiking Lisbon', limit: 10 },
    ]);
    // The archived memory and the other user's never come back.
    assert.deepEqual(
      hiking!.map((h) => h.id),
      [alps],
    );
    assert.deepEqual(
      sister!.map((h) => h.id),
      [lisbon, alps],
      'two terms rank above one',
    );
    assert.ok(sister![0]!.score > sister![1]!.score);
    assert.deepEqual(
      tagged!.map((h) => h.id),
      [lisbon],
    );
    assert.equal(foreign!.length, 1);
    assert.notEqual(foreign![0]!.id, lisbon);
    const lunch = await store.searchText([{ userId: big.id, query: 'lunch', limit: 5 }]);
    assert.equal(lunch[0]!.length, 5, 'a common term still returns the limit');
  });
}
