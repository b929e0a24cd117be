import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/**
 * The first message of a conversation over the real API, indexing and
 * narrative scheduler on the Temporal dev server: answered at once from the
 * stored narrative and the newest memories with no model call; a missing or
 * stale narrative is requested, never waited for.
 */
describe('new conversation context and GET /v1/narrative', () => {
  let engine: TestEngine;
  let api: TestApi;
  let user: { user_id: string; api_key: string };
  const contents = [
    'I am a marine biologist based in Lisbon',
    'I prefer short, direct answers',
    'Currently writing a paper on octopus cognition',
  ];

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { narratives: true });
    user = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
  });
  after(async () => {
    await api.stop();
    await engine.close();
  });

  const newConversation = (message: string) =>
    call(api.url, 'POST', '/v1/context', {
      key: user.api_key,
      body: { message, is_new_conversation: true },
    });
  const narrative = () => call(api.url, 'GET', '/v1/narrative', { key: user.api_key });

  it('answers from recent memories without a narrative, and gets one written', async () => {
    assert.equal((await narrative()).status, 404);
    const empty = await newConversation('hi there');
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.memories, []);
    assert.equal(empty.body.model_calls, 0);

    for (const content of contents) {
      const saved = await call(api.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: { content },
      });
      assert.equal(saved.status, 201);
    }
    const first = await newConversation('hi there');
    assert.equal(first.status, 200);
    assert.equal(first.body.model_calls, 0);
    assert.equal(first.body.plan.include_narrative, true);
    assert.deepEqual(
      first.body.memories.map((m: { content: string }) => m.content),
      [...contents].reverse(),
      'the newest memories, newest first',
    );
    assert.ok(first.body.memories.every((m: { sources: string[] }) => m.sources[0] === 'recent'));
    assert.match(first.body.context, /octopus cognition/);

    // Saves and the new conversation asked the scheduler; its worker writes the narrative.
    await eventually('a narrative written for the current data version', async () => {
      const res = await narrative();
      return res.status === 200 && res.body.stale === false;
    });
  });

  it('answers from the stored narrative once there is one', async () => {
    const stored = (await narrative()).body;
    assert.match(stored.content, /marine biologist/);
    assert.equal(stored.model, 'local');
    const answer = await newConversation('good morning');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.model_calls, 0);
    assert.ok(answer.body.context.includes(stored.content.split('\n')[0]), answer.body.context);
    assert.equal(answer.body.memories.length, 3);
  });

  it('marks the narrative stale after a save, and rewrites it', async () => {
    const before = (await narrative()).body;
    await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { content: 'I moved to Porto last month' },
    });
    await eventually('a newer narrative', async () => {
      const res = await narrative();
      return res.status === 200 && res.body.version > before.version && !res.body.stale;
    });
    assert.match((await narrative()).body.content, /Porto/);
  });

  it('keeps users apart', async () => {
    const other = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} }))
      .body;
    const res = await call(api.url, 'GET', '/v1/narrative', { key: other.api_key });
    assert.equal(res.status, 404);
    const ctx = await call(api.url, 'POST', '/v1/context', {
      key: other.api_key,
      body: { message: 'hello', is_new_conversation: true },
    });
    assert.deepEqual(ctx.body.memories, []);
    assert.equal((await call(api.url, 'GET', '/v1/narrative')).status, 401);
  });
});
