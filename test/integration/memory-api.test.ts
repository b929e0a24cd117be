import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

describe('memory API over the real engine, Temporal indexing and PGlite', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: { user_id: string; api_key: string; key_id: string };
  let bob: { user_id: string; api_key: string; key_id: string };
  const as = (who: { api_key: string }, method: string, path: string, body?: unknown) =>
    call(api.url, method, path, { key: who.api_key, ...(body !== undefined ? { body } : {}) });
  const indexed = (who: { api_key: string }, id: string) =>
    eventually(`memory ${id} indexed`, async () => {
      const res = await as(who, 'GET', `/v1/memories/${id}`);
      return res.body?.index_state === 'indexed';
    });

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine);
    alice = (
      await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: { name: 'Alice' } })
    ).body;
    bob = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
  });
  after(async () => {
    await api.stop();
    await engine.close();
  });

  it('creates users with a key shown once and refuses admin calls without the admin key', async () => {
    assert.match(alice.api_key, /^mem_/);
    assert.match(alice.user_id, /^[0-9a-f-]{36}$/);
    const noKey = await call(api.url, 'POST', '/v1/admin/users', { body: {} });
    assert.equal(noKey.status, 401);
    const userKey = await call(api.url, 'POST', '/v1/admin/users', {
      key: alice.api_key,
      body: {},
    });
    assert.equal(userKey.status, 401);
  });

  it('refuses /v1 calls without a key or with an unknown one', async () => {
    const none = await call(api.url, 'GET', '/v1/memories');
    assert.equal(none.status, 401);
    assert.match(none.body.error.message, /Authorization: Bearer/);
    const wrong = await call(api.url, 'GET', '/v1/memories', { key: 'mem_not-a-real-key-at-all' });
    assert.equal(wrong.status, 401);
  });

  it('acknowledges a save as pending, indexes it durably, and finds it first by its own words', async () => {
    const saved = await as(alice, 'POST', '/v1/memories', {
      content: 'My favourite hiking trail is the Rota Vicentina along the coast',
      tags: ['outdoors'],
    });
    assert.equal(saved.status, 201);
    assert.equal(saved.body.index_state, 'pending');
    await as(alice, 'POST', '/v1/memories', { content: 'I am learning to bake sourdough bread' });
    await as(alice, 'POST', '/v1/memories', {
      content: 'My manager wants the quarterly report by Friday',
    });
    await indexed(alice, saved.body.id);
    const found = await as(alice, 'POST', '/v1/search', { query: 'favourite hiking trail coast' });
    assert.equal(found.status, 200);
    assert.equal(found.body.results[0].id, saved.body.id);
    assert.deepEqual(found.body.results[0].tags, ['outdoors']);
  });

  it('stores the same content once and says so', async () => {
    const first = await as(alice, 'POST', '/v1/memories', { content: 'Allergic to penicillin' });
    const again = await as(alice, 'POST', '/v1/memories', { content: 'allergic to  penicillin' });
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.created, false);
  });

  it('saves a batch atomically and lists it with filters and a cursor', async () => {
    const batch = await as(alice, 'POST', '/v1/memories', {
      memories: [
        { content: 'Batch one', tags: ['batch'] },
        { content: 'Batch two', tags: ['batch'] },
        { content: 'Batch three', tags: ['batch'], metadata: { source: 'import' } },
      ],
    });
    assert.equal(batch.status, 201);
    assert.equal(batch.body.ids.length, 3);
    const page1 = await as(alice, 'GET', '/v1/memories?tag=batch&limit=2');
    assert.equal(page1.body.items.length, 2);
    const page2 = await as(
      alice,
      'GET',
      `/v1/memories?tag=batch&limit=2&cursor=${page1.body.next_cursor}`,
    );
    assert.equal(page2.body.items.length, 1);
    assert.equal(page2.body.next_cursor, null);
    assert.deepEqual(
      [...page1.body.items, ...page2.body.items].map((m: { content: string }) => m.content),
      ['Batch three', 'Batch two', 'Batch one'],
    );
    assert.deepEqual(page1.body.items[0].metadata, { source: 'import' });
  });

  it("keeps users apart: Bob can neither read, list, search, edit nor delete Alice's memories", async () => {
    const secret = await as(alice, 'POST', '/v1/memories', {
      content: 'Alice secret: the safe code is 4711',
    });
    await indexed(alice, secret.body.id);
    assert.equal((await as(bob, 'GET', `/v1/memories/${secret.body.id}`)).status, 404);
    assert.equal(
      (await as(bob, 'PATCH', `/v1/memories/${secret.body.id}`, { content: 'mine' })).status,
      404,
    );
    assert.equal((await as(bob, 'DELETE', `/v1/memories/${secret.body.id}`)).status, 404);
    assert.equal((await as(bob, 'GET', '/v1/memories')).body.items.length, 0);
    const search = await as(bob, 'POST', '/v1/search', { query: 'Alice secret safe code 4711' });
    assert.equal(search.body.results.length, 0);
    assert.equal(
      (await as(alice, 'GET', `/v1/memories/${secret.body.id}`)).body.content,
      'Alice secret: the safe code is 4711',
    );
  });

  it('re-indexes an edit and forgets a delete', async () => {
    const saved = await as(alice, 'POST', '/v1/memories', { content: 'Parking spot is B12' });
    await indexed(alice, saved.body.id);
    const edited = await as(alice, 'PATCH', `/v1/memories/${saved.body.id}`, {
      content: 'Parking spot moved to level minus two, space C7',
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.revision, 2);
    await indexed(alice, saved.body.id);
    const found = await as(alice, 'POST', '/v1/search', {
      query: 'parking level minus two space C7',
    });
    assert.equal(found.body.results[0].id, saved.body.id);

    assert.equal((await as(alice, 'DELETE', `/v1/memories/${saved.body.id}`)).status, 204);
    assert.equal((await as(alice, 'GET', `/v1/memories/${saved.body.id}`)).status, 404);
    await eventually(
      'the deleted memory leaves the vector index',
      async () =>
        !(await engine.vectors.listIds(alice.user_id, { limit: 1000 })).includes(saved.body.id),
    );
  });

  it('uses the graph: a query naming a person finds the memory about their company', async () => {
    const a = await as(alice, 'POST', '/v1/memories', { content: 'Maria works at Acme Robotics' });
    const b = await as(alice, 'POST', '/v1/memories', {
      content: 'Acme Robotics is opening a new office in Berlin next spring',
    });
    await indexed(alice, a.body.id);
    await indexed(alice, b.body.id);
    const found = await as(alice, 'POST', '/v1/search', {
      query: 'Any news about Maria?',
      limit: 5,
    });
    const hit = found.body.results.find((r: { id: string }) => r.id === b.body.id);
    assert.ok(hit, 'the Berlin memory is found through Maria -> Acme Robotics');
    assert.ok(hit.sources.includes('graph'));
  });

  it('archives a memory out of search and back', async () => {
    const saved = await as(alice, 'POST', '/v1/memories', {
      content: 'Gym membership renews in March',
    });
    await indexed(alice, saved.body.id);
    await as(alice, 'PATCH', `/v1/memories/${saved.body.id}`, { state: 'archived' });
    const hidden = await as(alice, 'POST', '/v1/search', { query: 'gym membership renews March' });
    assert.ok(!hidden.body.results.some((r: { id: string }) => r.id === saved.body.id));
    const archived = await as(alice, 'GET', '/v1/memories?state=archived');
    assert.deepEqual(
      archived.body.items.map((m: { id: string }) => m.id),
      [saved.body.id],
    );
  });

  it('answers every kind of bad input with a 4xx naming the problem, and writes nothing', async () => {
    const before = (await as(alice, 'GET', '/v1/memories?limit=200')).body.items.length;
    const cases: [string, string, unknown, number, RegExp][] = [
      [
        'POST',
        '/v1/memories',
        { content: 'x'.repeat(5001) },
        400,
        /body\.content: expected at most 5000/,
      ],
      [
        'POST',
        '/v1/memories',
        { content: 'ok', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
        400,
        /body\.tags: expected at most 10 tags/,
      ],
      ['POST', '/v1/memories', { content: 42 }, 400, /body\.content: expected a string/],
      ['POST', '/v1/memories', { content: 'ok', colour: 'red' }, 400, /colour/],
      ['POST', '/v1/memories', { content: '   ' }, 400, /body\.content: expected non-empty/],
      ['POST', '/v1/memories', { memories: [] }, 400, /body\.memories: expected at least 1/],
      [
        'POST',
        '/v1/memories',
        { memories: Array.from({ length: 101 }, (_, i) => ({ content: `m${i}` })) },
        400,
        /at most 100/,
      ],
      [
        'POST',
        '/v1/memories',
        { memories: [{ content: 'fine' }, { content: '' }] },
        400,
        /body\.memories\.1\.content/,
      ],
      ['GET', '/v1/memories/not-a-uuid', undefined, 400, /params\.id: expected a UUID/],
      ['GET', '/v1/memories?limit=1000', undefined, 400, /query\.limit: expected at most 200/],
      ['GET', '/v1/memories?limit=abc', undefined, 400, /query\.limit/],
      ['GET', '/v1/memories?from=yesterday', undefined, 400, /query\.from/],
      ['GET', '/v1/memories?cursor=bogus', undefined, 400, /cursor/],
      ['GET', '/v1/memories?sort=asc', undefined, 400, /sort/],
      ['PATCH', '/v1/memories/00000000-0000-4000-8000-000000000000', {}, 400, /at least one of/],
      [
        'PATCH',
        '/v1/memories/00000000-0000-4000-8000-000000000000',
        { state: 'gone' },
        400,
        /body\.state/,
      ],
      ['GET', '/v1/memories/00000000-0000-4000-8000-000000000000', undefined, 404, /not found/],
      ['POST', '/v1/search', { query: '' }, 400, /body\.query/],
      [
        'POST',
        '/v1/search',
        { query: 'x', limit: 10_000 },
        400,
        /body\.limit: expected at most 50/,
      ],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await as(alice, method, path, body);
      assert.equal(res.status, status, `${method} ${path} -> ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, message, `${method} ${path}`);
      assert.ok(res.body.error.request_id);
    }
    const malformed = await call(api.url, 'POST', '/v1/memories', {
      key: alice.api_key,
      raw: '{"content": "x",',
    });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error.message, /not valid JSON/);
    const huge = await call(api.url, 'POST', '/v1/memories', {
      key: alice.api_key,
      raw: JSON.stringify({ content: 'y'.repeat(2_000_000) }),
    });
    assert.equal(huge.status, 413);
    assert.equal((await as(alice, 'GET', '/v1/memories?limit=200')).body.items.length, before);
  });

  it("stops honouring a revoked key at once, while the user's other key keeps working", async () => {
    const second = await call(api.url, 'POST', `/v1/admin/users/${bob.user_id}/keys`, {
      key: ADMIN_KEY,
    });
    assert.equal(second.status, 201);
    assert.equal((await as(bob, 'GET', '/v1/memories')).status, 200);
    assert.equal(
      (await call(api.url, 'DELETE', `/v1/admin/keys/${bob.key_id}`, { key: ADMIN_KEY })).status,
      204,
    );
    assert.equal((await as(bob, 'GET', '/v1/memories')).status, 401);
    assert.equal((await as(second.body, 'GET', '/v1/memories')).status, 200);
    assert.equal(
      (await call(api.url, 'DELETE', `/v1/admin/keys/${bob.key_id}`, { key: ADMIN_KEY })).status,
      404,
    );
  });

  it('serves an OpenAPI 3.1 document generated from the validating schemas, and a docs page', async () => {
    const doc = await call(api.url, 'GET', '/openapi.json');
    assert.equal(doc.body.openapi, '3.1.0');
    const save = doc.body.paths['/v1/memories'].post;
    const schema = JSON.stringify(save.requestBody.content['application/json'].schema);
    assert.match(schema, /"maxLength":5000/);
    assert.match(schema, /"maxItems":10/);
    assert.ok(doc.body.paths['/v1/memories/{id}'].patch);
    assert.ok(doc.body.paths['/v1/search'].post);
    const page = await fetch(`${api.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /\/v1\/memories\/\{id\}/);
  });
});
