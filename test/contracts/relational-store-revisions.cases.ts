import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RelationalStore } from '../../core/ports/relational-store.ts';

/**
 * The relational store's contract for changes that revise memories
 * (`applyMemoryChanges`, what a conversation writes) and the revisions they
 * keep. Called inside the relational-store contract, so every adapter runs it.
 */
export function revisionCases(store: RelationalStore): void {
  it('revises and adds in one write, keeping what the memory said and bumping the data version once per change', async () => {
    const user = await store.createUser({});
    const { memory } = await store.insertMemory(user.id, {
      content: 'I live in Porto',
      tags: ['home'],
      occurredAt: new Date('2019-03-01T00:00:00Z'),
    });
    const before = (await store.getUser(user.id))!.dataVersion;
    const result = await store.applyMemoryChanges(user.id, {
      updates: [
        {
          memoryId: memory.id,
          revision: 1,
          content: 'I live in Lisbon',
          occurredAt: new Date('2026-01-05T00:00:00Z'),
        },
      ],
      inserts: [{ content: 'I work at Acme' }, { content: 'i live in lisbon' }],
    });
    const [outcome] = result.updated;
    assert.equal(outcome?.kind, 'updated');
    if (outcome?.kind !== 'updated') return;
    assert.equal(outcome.memory.content, 'I live in Lisbon');
    assert.equal(outcome.memory.revision, 2);
    assert.equal(outcome.memory.indexState, 'pending');
    assert.deepEqual(outcome.memory.tags, ['home'], 'tags are kept');
    assert.equal(outcome.memory.occurredAt.toISOString(), '2026-01-05T00:00:00.000Z');
    assert.equal(outcome.previous.content, 'I live in Porto');
    assert.equal(outcome.previous.revision, 1);
    assert.deepEqual(
      result.inserted.map((r) => r.created),
      [true, false],
      'an insert repeating the revised content finds the revised memory',
    );
    assert.equal(result.inserted[1]!.memory.id, memory.id);
    assert.equal((await store.getUser(user.id))!.dataVersion, before + 2);

    const revisions = await store.memoryRevisions(user.id, memory.id);
    assert.deepEqual(
      revisions?.map((r) => [r.revision, r.content, r.tags, r.occurredAt.toISOString()]),
      [[1, 'I live in Porto', ['home'], '2019-03-01T00:00:00.000Z']],
    );
  });

  it('leaves alone a memory edited, archived or deleted since, another user’s, and one whose new content is held', async () => {
    const user = await store.createUser({});
    const other = await store.createUser({});
    const [edited, archived, deleted, held, target] = await store.insertMemories(user.id, [
      { content: 'edited one' },
      { content: 'archived one' },
      { content: 'deleted one' },
      { content: 'the held content' },
      { content: 'the target' },
    ]);
    await store.updateMemory(user.id, edited!.memory.id, { content: 'edited one, again' });
    await store.updateMemory(user.id, archived!.memory.id, { state: 'archived' });
    await store.deleteMemory(user.id, deleted!.memory.id);
    const { memory: foreign } = await store.insertMemory(other.id, { content: 'not yours' });
    const update = (memoryId: string, content: string) => ({ memoryId, revision: 1, content });
    const result = await store.applyMemoryChanges(user.id, {
      inserts: [],
      updates: [
        update(edited!.memory.id, 'x1'),
        update(archived!.memory.id, 'x2'),
        update(deleted!.memory.id, 'x3'),
        update(foreign.id, 'x4'),
        update(target!.memory.id, 'The held content'),
        update(target!.memory.id, 'the target'),
      ],
    });
    assert.deepEqual(
      result.updated.map((u) => (u.kind === 'repeat' ? `repeat ${u.memory.id}` : u.kind)),
      [
        'changed',
        'changed',
        'changed',
        'changed',
        `repeat ${held!.memory.id}`,
        `repeat ${target!.memory.id}`,
      ],
    );
    assert.equal((await store.getMemory(other.id, foreign.id))?.content, 'not yours');
    assert.deepEqual(await store.memoryRevisions(user.id, target!.memory.id), []);
    assert.equal(await store.memoryRevisions(user.id, foreign.id), null, 'not the user’s');
  });

  it('writes nothing when any part of the write fails', async () => {
    const user = await store.createUser({});
    const { memory } = await store.insertMemory(user.id, { content: 'I drive a Fiat' });
    const version = (await store.getUser(user.id))!.dataVersion;
    await assert.rejects(
      store.applyMemoryChanges(user.id, {
        updates: [{ memoryId: memory.id, revision: 1, content: 'I drive a Volvo' }],
        // jsonb refuses a NUL: the insert fails after the update was applied.
        inserts: [{ content: 'fine content', metadata: { bad: 'nul \u0000 here' } }],
      }),
    );
    assert.equal((await store.getMemory(user.id, memory.id))?.content, 'I drive a Fiat');
    assert.deepEqual(await store.memoryRevisions(user.id, memory.id), []);
    assert.equal((await store.listMemories(user.id, { limit: 10 })).items.length, 1);
    assert.equal((await store.getUser(user.id))!.dataVersion, version);
  });

  it('forgets a memory’s revisions with the memory', async () => {
    const user = await store.createUser({});
    const { memory } = await store.insertMemory(user.id, { content: 'first wording' });
    await store.applyMemoryChanges(user.id, {
      inserts: [],
      updates: [{ memoryId: memory.id, revision: 1, content: 'second wording' }],
    });
    assert.equal((await store.memoryRevisions(user.id, memory.id))?.length, 1);
    await store.deleteMemory(user.id, memory.id);
    assert.equal(await store.memoryRevisions(user.id, memory.id), null);
  });
}
