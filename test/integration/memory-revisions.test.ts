import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;
interface RevisionOut {
  revision: number;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  occurred_at: string;
}

/**
 * `PATCH /v1/memories/:id` keeps what a memory said before a content change,
 * as a conversation's update does: `GET /v1/memories/:id/revisions` lists it.
 */
describe('revisions kept by PATCH', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: User;
  let bob: User;
  const as = (who: User, method: string, path: string, body?: unknown) =>
    call(api.url, method, path, { key: who.api_key, ...(body !== undefined ? { body } : {}) });
  const revisions = async (who: User, id: string) => {
    const res = await as(who, 'GET', `/v1/memories/${id}/revisions`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.items as RevisionOut[]).map(({ revision, content, tags, metadata, occurred_at }) => ({ revision, content, tags, metadata, occurred_at })); // prettier-ignore
  };
  const patch = async (id: string, body: object, status = 200) => {
    const res = await as(alice, 'PATCH', `/v1/memories/${id}`, body);
    assert.equal(res.status, status, JSON.stringify(res.body));
    return res.body;
  };

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine);
    alice = await createUser(api.url);
    bob = await createUser(api.url);
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('keeps the old content, tags, metadata and event time of every content change, newest first', async () => {
    const saved = await as(alice, 'POST', '/v1/memories', {
      content: 'Works at Acme as an engineer',
      tags: ['work'],
      metadata: { team: 'core' },
      occurred_at: '2024-01-01T00:00:00Z',
    });
    assert.equal(saved.status, 201);
    const id = saved.body.id as string;
    assert.deepEqual(await revisions(alice, id), []);

    const first = await patch(id, { content: 'Works at Globex as a manager' });
    assert.equal(first.content, 'Works at Globex as a manager');
    assert.equal(first.revision, 2);
    const acme = {
      revision: 1,
      content: 'Works at Acme as an engineer',
      tags: ['work'],
      metadata: { team: 'core' },
      occurred_at: '2024-01-01T00:00:00.000Z',
    };
    assert.deepEqual(await revisions(alice, id), [acme]);

    // Tags, metadata and state are not what the memory says: no revision is kept for them.
    const retagged = await patch(id, { tags: ['work', 'career'], metadata: { team: 'ops' } });
    assert.equal(retagged.revision, 3);
    assert.deepEqual(await revisions(alice, id), [acme]);

    await patch(id, { content: 'Runs the Globex office in Porto', occurred_at: '2025-06-01T00:00:00Z' }); // prettier-ignore
    assert.deepEqual(await revisions(alice, id), [
      {
        revision: 3,
        content: 'Works at Globex as a manager',
        tags: ['work', 'career'],
        metadata: { team: 'ops' },
        occurred_at: '2024-01-01T00:00:00.000Z',
      },
      acme,
    ]);
    const current = await as(alice, 'GET', `/v1/memories/${id}`);
    assert.equal(current.body.content, 'Runs the Globex office in Porto');
    assert.equal(current.body.revision, 4);
  });

  it('keeps nothing for an edit that is refused or changes no words, and shows revisions to their owner only', async () => {
    const saved = await as(alice, 'POST', '/v1/memories', {
      memories: [{ content: 'Has a cat named Miso' }, { content: 'Has a dog named Pico' }],
    });
    const [cat, dog] = saved.body.ids as [string, string];

    await patch(cat, { content: 'has a DOG named   pico' }, 409);
    await patch(cat, { content: 'HAS A CAT NAMED MISO' });
    assert.deepEqual(await revisions(alice, cat), [], 'same words: nothing replaced');

    await patch(dog, { content: 'Has a dog named Pico and a parrot' });
    assert.equal((await revisions(alice, dog)).length, 1);
    const asBob = await as(bob, 'GET', `/v1/memories/${dog}/revisions`);
    assert.equal(asBob.status, 404);
  });
});
