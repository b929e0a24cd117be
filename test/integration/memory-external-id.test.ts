import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * `external_id` on the memory routes: a client's own id for a memory, unique
 * per user, shown on every read; saving one the user has answers with that
 * memory, as an import does; bad ids are 400s naming the field.
 */
describe('external ids on the memory routes', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: User;
  let bob: User;
  const as = (who: User, method: string, path: string, body?: unknown) =>
    call(api.url, method, path, { key: who.api_key, ...(body !== undefined ? { body } : {}) });

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { rateLimit: { enabled: false } });
    alice = await createUser(api.url);
    bob = await createUser(api.url);
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('shows the id on get and list, and a save repeating it answers with the memory the user has', async () => {
    const first = await as(alice, 'POST', '/v1/memories', {
      content: 'Dentist is Dr. Sousa in Alfama',
      external_id: '  crm-42  ',
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const id = first.body.id as string;
    const read = await as(alice, 'GET', `/v1/memories/${id}`);
    assert.equal(read.body.external_id, 'crm-42', 'trimmed, as every text field');
    const listed = await as(alice, 'GET', '/v1/memories?limit=50');
    assert.equal(listed.body.items.find((m: { id: string }) => m.id === id)?.external_id, 'crm-42'); // prettier-ignore

    const again = await as(alice, 'POST', '/v1/memories', {
      content: 'Dentist moved to Dr. Costa',
      external_id: 'crm-42',
    });
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.id, again.body.created], [id, false]);
    assert.equal((await as(alice, 'GET', `/v1/memories/${id}`)).body.content, 'Dentist is Dr. Sousa in Alfama'); // prettier-ignore

    const batch = await as(alice, 'POST', '/v1/memories', {
      memories: [
        { content: 'Gym on Tuesdays', external_id: 'crm-43' },
        { content: 'Gym on Thursdays too', external_id: 'crm-43' },
        { content: 'Something else entirely', external_id: 'crm-42' },
        { content: 'No id at all' },
      ],
    });
    assert.equal(batch.status, 201, JSON.stringify(batch.body));
    const [gym, gymAgain, dentist, plain] = batch.body.ids as string[];
    assert.deepEqual(batch.body.created, [true, false, false, true]);
    assert.equal(gymAgain, gym);
    assert.equal(dentist, id);
    assert.equal((await as(alice, 'GET', `/v1/memories/${plain}`)).body.external_id, null);

    // Unique per user: Bob's crm-42 is his own memory.
    const bobs = await as(bob, 'POST', '/v1/memories', { content: 'Bob: dentist', external_id: 'crm-42' }); // prettier-ignore
    assert.equal(bobs.status, 201);
    assert.notEqual(bobs.body.id, id);
  });

  it('edits the id with PATCH: a new one, one another memory holds (409), or null to clear it', async () => {
    const saved = await as(alice, 'POST', '/v1/memories', {
      memories: [
        { content: 'Car insurance renews in May', external_id: 'ins-1' },
        { content: 'Home insurance renews in June', external_id: 'ins-2' },
      ],
    });
    const [car, home] = saved.body.ids as [string, string];

    const renamed = await as(alice, 'PATCH', `/v1/memories/${car}`, { external_id: 'ins-car' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.external_id, 'ins-car');
    assert.equal(renamed.body.revision, 1, 'not what the memory says: no new revision');

    const taken = await as(alice, 'PATCH', `/v1/memories/${car}`, { external_id: 'ins-2' });
    assert.equal(taken.status, 409, JSON.stringify(taken.body));
    assert.match(taken.body.error.message, /external_id/);
    assert.equal(taken.body.error.details.memory_id, home);

    const cleared = await as(alice, 'PATCH', `/v1/memories/${home}`, { external_id: null });
    assert.equal(cleared.body.external_id, null);
    const reused = await as(alice, 'PATCH', `/v1/memories/${car}`, { external_id: 'ins-2' });
    assert.equal(reused.body.external_id, 'ins-2');
    const fresh = await as(alice, 'POST', '/v1/memories', { content: 'Pet insurance', external_id: 'ins-car' }); // prettier-ignore
    assert.equal(fresh.status, 201, 'the renamed-away id is free again');
  });

  it('frees the id of an expired memory: saving it again stores a new memory', async () => {
    const gone = await as(alice, 'POST', '/v1/memories', {
      content: 'Parking ticket valid for a second',
      external_id: 'ticket-1',
      ttl_s: 1,
    });
    assert.equal(gone.status, 201);
    await sleep(1100);
    const next = await as(alice, 'POST', '/v1/memories', {
      content: 'Parking ticket for tomorrow',
      external_id: 'ticket-1',
    });
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.notEqual(next.body.id, gone.body.id);
  });

  it('refuses bad ids with a 400 naming the field', async () => {
    const memory = (await as(alice, 'POST', '/v1/memories', { content: 'Likes figs' })).body.id;
    const bad: [unknown, RegExp][] = [
      ['', /body\.external_id: expected a non-empty id/],
      ['   ', /body\.external_id: expected a non-empty id/],
      ['x'.repeat(256), /body\.external_id: expected at most 255 characters/],
      ['crm\u00001', /body\.external_id: contains a NUL character/],
      ['crm-\uD800', /body\.external_id: contains a lone UTF-16 surrogate/],
      [42, /body\.external_id: expected a string/],
    ];
    for (const [value, message] of bad) {
      const saved = await as(alice, 'POST', '/v1/memories', { content: 'Likes plums', external_id: value }); // prettier-ignore
      assert.equal(saved.status, 400, JSON.stringify(value));
      assert.match(saved.body.error.message, message);
      const batch = await as(alice, 'POST', '/v1/memories', { memories: [{ content: 'Likes plums', external_id: value }] }); // prettier-ignore
      assert.equal(batch.status, 400);
      assert.match(batch.body.error.message, /body\.memories\.0\.external_id/);
      const patched = await as(alice, 'PATCH', `/v1/memories/${memory}`, { external_id: value });
      assert.equal(patched.status, 400);
      assert.match(patched.body.error.message, message);
    }
    assert.equal((await as(alice, 'GET', '/v1/memories?limit=200')).body.items.filter((m: { content: string }) => m.content === 'Likes plums').length, 0); // prettier-ignore
  });
});
