import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;
type Found = { id: string }[];

/**
 * `filters` on /v1/search, /v1/context and the MCP tools that search, over
 * the real engine: every memory that comes back passes the filter (its
 * metadata, tags, event time and state as they are now), one user's filter
 * never reaches another's memories, a cached context is never served for
 * another filter, and bad filters are 400s naming the field.
 */
describe('filters on search, context and MCP', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: User;
  let bob: User;
  /** Alice's memories by name, Bob's one. */
  const ids: Record<string, string> = {};
  const as = (who: User, path: string, body: unknown) =>
    call(api.url, 'POST', path, { key: who.api_key, body });
  const searchIds = async (body: object, who: User = alice) => {
    const res = await as(who, '/v1/search', { query: 'trip plans', limit: 50, ...body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return names((res.body.results as Found).map((r) => r.id));
  };
  const names = (found: string[]) =>
    found.map((id) => Object.keys(ids).find((name) => ids[name] === id) ?? id).sort();
  const allIndexed = (who: User) =>
    eventually('every memory indexed', async () => {
      const page = await call(api.url, 'GET', '/v1/memories?limit=200&state=active', {
        key: who.api_key,
      });
      const archived = await call(api.url, 'GET', '/v1/memories?limit=200&state=archived', {
        key: who.api_key,
      });
      return [...page.body.items, ...archived.body.items].every(
        (m: { index_state: string }) => m.index_state === 'indexed',
      );
    });

  before(async () => {
    engine = await createTestEngine('postgres', { EMBEDDER: 'hashing' });
    // The cases send over a hundred requests in a few seconds: this is not the rate limit's test.
    api = await startTestApi(engine, { rateLimit: { enabled: false } });
    alice = await createUser(api.url);
    bob = await createUser(api.url);
    const saved = await as(alice, '/v1/memories', {
      memories: [
        {
          content: 'Trip to Rome planned with the Apollo team',
          metadata: { project: 'apollo', lang: 'en' },
          tags: ['work', 'travel'],
          occurred_at: '2024-03-01T00:00:00Z',
        },
        {
          content: 'Trip to Berlin for the Apollo launch',
          metadata: { project: 'apollo', lang: 'de' },
          tags: ['work'],
          occurred_at: '2023-06-01T00:00:00Z',
        },
        {
          content: 'Trip to Lyon with the Gemini group',
          metadata: { project: 'gemini', lang: 'fr', priority: 1 },
          tags: ['travel'],
          occurred_at: '2024-08-01T00:00:00Z',
        },
        {
          content: 'Trip to Oslo for the Apollo review',
          metadata: { project: 'apollo', lang: 'en', priority: 1 },
          tags: ['work', 'travel', 'q3'],
          occurred_at: '2025-01-10T00:00:00Z',
        },
      ],
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const [rome, berlin, lyon, oslo] = saved.body.ids as [string, string, string, string];
    Object.assign(ids, { rome, berlin, lyon, oslo });
    const bobs = await as(bob, '/v1/memories', {
      content: 'Trip to Rome for the Apollo conference',
      metadata: { project: 'apollo', lang: 'en' },
      tags: ['work', 'travel'],
      occurred_at: '2024-03-01T00:00:00Z',
    });
    ids.bobRome = bobs.body.id as string;
    await allIndexed(alice);
    // Archived after indexing: the edit must reach the vector index's payload.
    const archived = await call(api.url, 'PATCH', `/v1/memories/${ids.oslo}`, {
      key: alice.api_key,
      body: { state: 'archived' },
    });
    assert.equal(archived.status, 200);
    await allIndexed(alice);
    await allIndexed(bob);
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('searches only the memories that pass the filter, active ones by default', async () => {
    assert.deepEqual(await searchIds({}), ['berlin', 'lyon', 'rome']);
    assert.deepEqual(await searchIds({ filters: { metadata: { project: 'apollo' } } }), [
      'berlin',
      'rome',
    ]);
    assert.deepEqual(
      await searchIds({ filters: { metadata: { project: 'apollo', lang: { in: ['de', 'fr'] } } } }),
      ['berlin'],
    );
    assert.deepEqual(await searchIds({ filters: { metadata: { priority: 1 } } }), ['lyon']);
    assert.deepEqual(await searchIds({ filters: { metadata: { priority: '1' } } }), []);
    assert.deepEqual(await searchIds({ filters: { tags: { all: ['work', 'travel'] } } }), ['rome']); // prettier-ignore
    assert.deepEqual(await searchIds({ filters: { tags: { any: ['q3', 'travel'] } } }), [
      'lyon',
      'rome',
    ]);
    assert.deepEqual(
      await searchIds({ filters: { from: '2024-01-01T00:00:00Z', to: '2024-08-01T00:00:00Z' } }),
      ['rome'],
    );
    assert.deepEqual(await searchIds({ filters: { state: 'archived' } }), ['oslo']);
    assert.deepEqual(
      await searchIds({ filters: { state: 'archived', metadata: { project: 'gemini' } } }),
      [],
    );
  });

  it('finds archived and filtered memories through the vector index too', async () => {
    const res = await as(alice, '/v1/search', {
      query: 'trip plans',
      filters: { state: 'archived', tags: { all: ['q3'] } },
    });
    const [oslo] = res.body.results as { id: string; sources: string[] }[];
    assert.equal(oslo?.id, ids.oslo);
    assert.ok(oslo?.sources.includes('vector'), JSON.stringify(oslo?.sources));
  });

  it('combines the top-level tags, from and to with filters, all at once', async () => {
    assert.deepEqual(await searchIds({ tags: ['travel'], filters: { tags: { all: ['work'] } } }), [
      'rome',
    ]);
    assert.deepEqual(
      await searchIds({ from: '2024-01-01T00:00:00Z', filters: { metadata: { lang: 'fr' } } }),
      ['lyon'],
    );
    const both = await as(alice, '/v1/search', {
      query: 'trip',
      tags: ['travel'],
      filters: { tags: { any: ['work'] } },
    });
    assert.equal(both.status, 400);
    assert.match(both.body.error.message, /tags or filters\.tags\.any, not both/);
    const twice = await as(alice, '/v1/search', {
      query: 'trip',
      from: '2024-01-01T00:00:00Z',
      filters: { from: '2023-01-01T00:00:00Z' },
    });
    assert.equal(twice.status, 400);
    assert.match(twice.body.error.message, /from or filters\.from, not both/);
  });

  it("never shows one user another user's memories, whatever the filter", async () => {
    const apollo = { filters: { metadata: { project: 'apollo', lang: 'en' } } };
    assert.deepEqual(await searchIds(apollo), ['rome']);
    assert.deepEqual(await searchIds(apollo, bob), ['bobRome']);
    const context = await as(bob, '/v1/context', { message: 'What are my trip plans?', ...apollo });
    const used = names((context.body.memories as Found).map((m) => m.id));
    assert.deepEqual(used, ['bobRome']);
  });

  it('builds the context from filtered memories, and never serves a cached one across filters', async () => {
    const ask = async (body: object) => {
      const res = await as(alice, '/v1/context', { message: 'What are my trip plans?', ...body });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return {
        used: names((res.body.memories as Found).map((m) => m.id)),
        search: res.body.cache.search as string,
        context: res.body.context as string,
      };
    };
    const gemini = { filters: { metadata: { project: 'gemini' } } };
    const apollo = { filters: { metadata: { project: 'apollo' } } };
    const first = await ask(gemini);
    assert.deepEqual(first.used, ['lyon']);
    assert.doesNotMatch(first.context, /Rome|Berlin|Oslo/);
    assert.deepEqual((await ask(apollo)).used, ['berlin', 'rome']);
    const again = await ask(gemini);
    assert.deepEqual(again.used, ['lyon']);
    assert.equal(again.search, 'l1', 'the same filter is served from the search cache');
    assert.deepEqual((await ask({ from: '2024-01-01T00:00:00Z' })).used, ['lyon', 'rome']);
    assert.deepEqual((await ask({ to: '2024-01-01T00:00:00Z' })).used, ['berlin']);
    assert.deepEqual((await ask({ filters: { state: 'archived' } })).used, ['oslo']);
    const opening = await ask({ is_new_conversation: true, ...apollo });
    assert.deepEqual(opening.used, ['berlin', 'rome']);
  });

  it('refuses bad filters with a 400 naming the field, on search and context', async () => {
    const refused = async (filters: unknown, field: RegExp) => {
      for (const [path, body] of [
        ['/v1/search', { query: 'trip', filters }],
        ['/v1/context', { message: 'What are my trip plans?', filters }],
      ] as const) {
        const res = await as(alice, path, body);
        assert.equal(res.status, 400, `${path} ${JSON.stringify(filters)}: ${JSON.stringify(res.body)}`); // prettier-ignore
        assert.match(res.body.error.message, field, JSON.stringify(filters));
      }
    };
    const many = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    await refused({ colour: 'blue' }, /body\.filters: .*colour/);
    await refused('apollo', /body\.filters: expected an object/);
    await refused({ metadata: { project: { eq: 'apollo' } } }, /body\.filters\.metadata\.project/);
    await refused(
      { metadata: { project: { in: [{ x: 1 }] } } },
      /body\.filters\.metadata\.project/,
    );
    await refused({ metadata: { project: ['apollo'] } }, /body\.filters\.metadata\.project/);
    await refused({ metadata: { project: null } }, /body\.filters\.metadata\.project/);
    await refused({ metadata: { project: { in: [] } } }, /body\.filters\.metadata\.project\.in: expected at least 1/); // prettier-ignore
    await refused({ metadata: many(17) }, /body\.filters\.metadata: expected at most 16 keys/);
    await refused(
      { metadata: { lang: { in: Array.from({ length: 65 }, (_, i) => `l${i}`) } } },
      /body\.filters\.metadata\.lang\.in: expected at most 64 values/,
    );
    await refused({ metadata: { project: 'x'.repeat(513) } }, /body\.filters\.metadata\.project: .*512/); // prettier-ignore
    await refused({ metadata: { ['k'.repeat(129)]: 1 } }, /body\.filters\.metadata.*128/);
    await refused({ metadata: { project: 'apo\u0000llo' } }, /body\.filters\.metadata\.project: contains a NUL/); // prettier-ignore
    await refused({ metadata: { project: 'apo\ud800llo' } }, /body\.filters\.metadata\.project: contains a lone/); // prettier-ignore
    await refused({ tags: { all: [] } }, /body\.filters\.tags\.all: expected at least 1 tag/);
    await refused({ tags: { none: ['x'] } }, /body\.filters\.tags/);
    await refused({ state: 'deleted' }, /body\.filters\.state: expected active or archived/);
    await refused({ from: 'last week' }, /body\.filters\.from: expected/);
    await refused(
      { from: '2024-01-01T00:00:00Z', to: '2023-01-01T00:00:00Z' },
      /body\.filters\.to: expected from before to/,
    );
    const context = await as(alice, '/v1/context', { message: 'trip?', from: 'soon' });
    assert.equal(context.status, 400);
    assert.match(context.body.error.message, /body\.from: expected/);
  });

  it('takes filters through the MCP search and context tools, naming bad arguments', async () => {
    const mcp = new Client({ name: 'filters-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${alice.api_key}` } },
      }),
    );
    try {
      const tool = async (name: string, args: Record<string, unknown>) =>
        (await mcp.callTool({ name, arguments: args })) as CallToolResult;
      const filters = { metadata: { lang: { in: ['de', 'fr'] } } };
      const searched = await tool('search_memories', { query: 'trip plans', filters });
      assert.ok(!searched.isError, JSON.stringify(searched.content));
      const results = (searched.structuredContent as { results: Found }).results;
      assert.deepEqual(names(results.map((r) => r.id)), ['berlin', 'lyon']);
      const context = await tool('get_context', { message: 'What are my trip plans?', filters });
      assert.ok(!context.isError, JSON.stringify(context.content));
      const used = (context.structuredContent as { memories: Found }).memories;
      assert.deepEqual(names(used.map((m) => m.id)), ['berlin', 'lyon']);
      const bad = await tool('search_memories', {
        query: 'trip',
        filters: { metadata: { lang: { like: 'e%' } } },
      });
      assert.equal(bad.isError, true);
      const text = bad.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      assert.match(text, /bad_request: arguments\.filters\.metadata\.lang/);
    } finally {
      await mcp.close();
    }
  });
});
