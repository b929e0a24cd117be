import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * Event time (`occurred_at`) and the ways to set an expiry, through the REST
 * API and MCP over the real engine: what is stored and shown, what filters
 * and orders by it, and which inputs are refused with a 400 naming the field.
 */
describe('event time and expiry input on the memory API', () => {
  let engine: TestEngine;
  let api: TestApi;
  let user: User;
  const as = (method: string, path: string, body?: unknown) =>
    call(api.url, method, path, { key: user.api_key, ...(body !== undefined ? { body } : {}) });
  const save = async (body: object) => {
    const res = await as('POST', '/v1/memories', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const refused = async (method: string, path: string, body: unknown, field: RegExp) => {
    const res = await as(method, path, body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error.message, field);
  };

  before(async () => {
    engine = await createTestEngine('pglite', { EMBEDDER: 'hashing' });
    api = await startTestApi(engine);
    user = await createUser(api.url);
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('stores the event time given with an offset, and the save time when none is given', async () => {
    const dated = await save({
      content: 'Ran my first marathon in Porto',
      occurred_at: '2019-11-03T09:30:00+01:00',
    });
    const plain = await save({ content: 'Bought a new pair of running shoes' });
    const read = (await as('GET', `/v1/memories/${dated}`)).body;
    assert.equal(read.occurred_at, '2019-11-03T08:30:00.000Z');
    assert.equal(read.expires_at, null);
    const now = (await as('GET', `/v1/memories/${plain}`)).body;
    assert.equal(now.occurred_at, now.created_at);

    const batch = await as('POST', '/v1/memories', {
      memories: [
        { content: 'Started piano lessons', occurred_at: '2015-09-01T00:00:00Z' },
        { content: 'Stopped piano lessons', occurred_at: '2017-06-30T00:00:00Z' },
      ],
    });
    assert.equal(batch.status, 201);
    const [started] = batch.body.ids as string[];
    assert.equal(
      (await as('GET', `/v1/memories/${started}`)).body.occurred_at,
      '2015-09-01T00:00:00.000Z',
    );
  });

  it('keeps the event time through edits that do not name it, and moves it when named', async () => {
    const id = await save({ content: 'Moved to Ghent', occurred_at: '2020-02-01T00:00:00Z' });
    const edited = await as('PATCH', `/v1/memories/${id}`, {
      content: 'Moved to Ghent with my partner',
      tags: ['home'],
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.occurred_at, '2020-02-01T00:00:00.000Z');
    const moved = await as('PATCH', `/v1/memories/${id}`, {
      occurred_at: '2020-03-15T12:00:00-03:00',
    });
    assert.equal(moved.body.occurred_at, '2020-03-15T15:00:00.000Z');
    assert.equal(moved.body.content, 'Moved to Ghent with my partner');
    assert.deepEqual(moved.body.tags, ['home']);
  });

  it('lists and searches by event time, and shows it in results and in the context', async () => {
    const old = await save({
      content: 'Adopted a tabby cat called Miso',
      occurred_at: '2012-05-20T00:00:00Z',
    });
    const recent = await save({
      content: 'Adopted a rescue cat called Tofu',
      occurred_at: '2024-05-20T00:00:00Z',
    });
    const listed = await as(
      'GET',
      '/v1/memories?limit=200&from=2012-01-01T00:00:00Z&to=2013-01-01T00:00:00Z',
    );
    assert.deepEqual(
      listed.body.items.map((m: { id: string }) => m.id),
      [old],
    );
    const search = (body: object) => as('POST', '/v1/search', { query: 'adopted cat', ...body });
    const all = (await search({})).body.results.map((r: { id: string }) => r.id);
    assert.ok(all.includes(old) && all.includes(recent));
    // Other memories of the user may rank too (vectors always find neighbours): only the
    // range decides which come back.
    const ranged = async (range: object, expected: string, left: string) => {
      const results = (await search(range)).body.results as { id: string; occurred_at: string }[];
      const ids = results.map((r) => r.id);
      assert.ok(ids.includes(expected) && !ids.includes(left), JSON.stringify(range));
      return results;
    };
    const since2020 = await ranged({ from: '2020-01-01T00:00:00Z' }, recent, old);
    assert.ok(since2020.every((r) => r.occurred_at >= '2020-01-01T00:00:00.000Z'));
    assert.equal(since2020.find((r) => r.id === recent)?.occurred_at, '2024-05-20T00:00:00.000Z');
    const before2020 = await ranged({ to: '2020-01-01T00:00:00+00:00' }, old, recent);
    assert.ok(before2020.every((r) => r.occurred_at < '2020-01-01T00:00:00.000Z'));

    const context = await as('POST', '/v1/context', { message: 'what is my cat called?' });
    assert.equal(context.status, 200);
    assert.match(context.body.context, /- \(2012-05-20\) Adopted a tabby cat called Miso/);
    const miso = context.body.memories.find((m: { id: string }) => m.id === old);
    assert.equal(miso.occurred_at, '2012-05-20T00:00:00.000Z');
  });

  it('opens a conversation with the memories whose events happened last', async () => {
    const other = await createUser(api.url);
    const saveFor = async (content: string, occurred_at: string) =>
      (
        await call(api.url, 'POST', '/v1/memories', {
          key: other.api_key,
          body: { content, occurred_at },
        })
      ).body.id as string;
    const latest = await saveFor('Got engaged in Kyoto', '2025-10-01T00:00:00Z');
    const oldest = await saveFor('Finished school', '2008-07-01T00:00:00Z');
    const middle = await saveFor('First job at a bakery', '2010-09-01T00:00:00Z');
    const opening = await call(api.url, 'POST', '/v1/context', {
      key: other.api_key,
      body: { message: 'Good morning!', is_new_conversation: true },
    });
    assert.deepEqual(
      opening.body.memories.map((m: { id: string }) => m.id),
      [latest, middle, oldest],
    );
  });

  it('sets, moves and clears an expiry on save and edit', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const id = await save({ content: 'Hotel room is 512 until Sunday', expires_at: at });
    const read = (await as('GET', `/v1/memories/${id}`)).body;
    assert.equal(read.expires_at, at);
    const ttl = await as('PATCH', `/v1/memories/${id}`, { ttl_s: 7200 });
    const inTwoHours = Date.parse(ttl.body.expires_at) - Date.now();
    assert.ok(inTwoHours > 7_100_000 && inTwoHours <= 7_200_000, `${inTwoHours} ms`);
    const kept = await as('PATCH', `/v1/memories/${id}`, { state: 'archived' });
    assert.equal(
      kept.body.expires_at,
      ttl.body.expires_at,
      'survives an edit that does not name it',
    );
    const cleared = await as('PATCH', `/v1/memories/${id}`, { expires_at: null });
    assert.equal(cleared.body.expires_at, null);
  });

  it('refuses bad times, out-of-range years and ambiguous expiries with a 400 naming the field', async () => {
    const post = (extra: object) => ({ content: 'Valid content', ...extra });
    for (const occurred_at of [
      'yesterday',
      '2024-02-30T00:00:00Z',
      '2024-05-01T10:00:00',
      '0000-12-31T00:00:00Z',
      '0001-01-01T00:30:00+01:00',
      '9999-12-31T23:30:00-01:00',
      '10000-01-01T00:00:00Z',
      12,
    ]) {
      await refused('POST', '/v1/memories', post({ occurred_at }), /body\.occurred_at: expected/);
    }
    await refused(
      'POST',
      '/v1/memories',
      { memories: [post({ occurred_at: 'soon' })] },
      /body\.memories\.0\.occurred_at: expected/,
    );
    const past = '2001-01-01T00:00:00Z';
    await refused('POST', '/v1/memories', post({ expires_at: past }), /body\.expires_at: .*future/);
    const future = new Date(Date.now() + 60_000).toISOString();
    await refused(
      'POST',
      '/v1/memories',
      post({ expires_at: future, ttl_s: 60 }),
      /body\.ttl_s: expected either expires_at or ttl_s, not both/,
    );
    for (const ttl_s of [0, -5, 1.5, '60', 315_576_001]) {
      await refused('POST', '/v1/memories', post({ ttl_s }), /body\.ttl_s: expected/);
    }
    const id = await save({ content: 'A memory to edit badly' });
    await refused('PATCH', `/v1/memories/${id}`, { occurred_at: 'now' }, /body\.occurred_at/);
    await refused(
      'PATCH',
      `/v1/memories/${id}`,
      { expires_at: future, ttl_s: 5 },
      /body\.ttl_s: expected either/,
    );
    await refused('GET', '/v1/memories?from=last-week', undefined, /query\.from: expected/);
    await refused(
      'POST',
      '/v1/search',
      { query: 'x', to: '0000-01-01T00:00:00Z' },
      /body\.to: expected/,
    );
    const listed = await as('GET', '/v1/memories?limit=200');
    assert.ok(
      listed.body.items.every((m: { content: string }) => m.content !== 'Valid content'),
      'nothing refused was stored',
    );
  });

  it('takes event time and expiry through the MCP update_memory tool, naming bad arguments', async () => {
    const id = await save({ content: 'Dentist is Dr Almeida' });
    const mcp = new Client({ name: 'event-time-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${user.api_key}` } },
      }),
    );
    try {
      const tool = async (args: object) =>
        (await mcp.callTool({
          name: 'update_memory',
          arguments: { id, ...args },
        })) as CallToolResult;
      const ok = await tool({ occurred_at: '2021-01-04T00:00:00Z', ttl_s: 3600 });
      assert.ok(!ok.isError, JSON.stringify(ok.content));
      const out = ok.structuredContent as { occurred_at: string; expires_at: string };
      assert.equal(out.occurred_at, '2021-01-04T00:00:00.000Z');
      assert.ok(Date.parse(out.expires_at) > Date.now());
      const bad = await tool({ ttl_s: 10, expires_at: new Date(Date.now() + 9e6).toISOString() });
      assert.equal(bad.isError, true);
      const text = bad.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      assert.match(text, /arguments\.ttl_s: expected either expires_at or ttl_s/);
    } finally {
      await mcp.close();
    }
    await eventually('the edit shows', async () => {
      const read = await as('GET', `/v1/memories/${id}`);
      return read.body.occurred_at === '2021-01-04T00:00:00.000Z';
    });
  });
});
