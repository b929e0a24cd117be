import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { consolidationWorkflow } from '../../workflows/index.ts';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * Expiry end to end: the real API, Temporal indexing and consolidation on the
 * run's dev server, PGlite with pgvector and the SQL graph, MCP over HTTP.
 * Memories that expire in 2 s are watched on every read path until they are
 * gone from all of them at once; then consolidation purges what is left of
 * them in the store, the vector index and the graph.
 */
describe('a memory that expires', () => {
  let engine: TestEngine;
  let api: TestApi;
  let user: User;
  let mcp: Client;

  const as = (method: string, path: string, body?: unknown) =>
    call(api.url, method, path, { key: user.api_key, ...(body !== undefined ? { body } : {}) });
  const searchTool = async (query: string) => {
    const result = (await mcp.callTool({
      name: 'search_memories',
      arguments: { query, limit: 20 },
    })) as CallToolResult;
    return (result.structuredContent as { results: { id: string }[] }).results.map((r) => r.id);
  };

  /** Which read paths return the memory now: each one a user (or an assistant) could take. */
  const seenBy = async (id: string, query: string) => {
    const ask = (body: object) => as('POST', '/v1/context', { message: query, ...body });
    const [get, list, search, context, opening, tool] = await Promise.all([
      as('GET', `/v1/memories/${id}`),
      as('GET', '/v1/memories?limit=200'),
      as('POST', '/v1/search', { query, limit: 20 }),
      ask({}),
      ask({ is_new_conversation: true, depth: 3 }),
      searchTool(query),
    ]);
    const ids = (items: { id: string }[]) => items.map((m) => m.id);
    return {
      get: get.status === 200,
      list: ids(list.body.items).includes(id),
      search: ids(search.body.results).includes(id),
      context: ids(context.body.memories).includes(id),
      contextCache: context.body.cache.search as string,
      opening: ids(opening.body.memories).includes(id),
      mcpSearch: tool.includes(id),
    };
  };
  const everywhere = { get: true, list: true, search: true, context: true, opening: true };
  const nowhere = { get: false, list: false, search: false, context: false, opening: false };
  const paths = ({ contextCache: _, ...seen }: Awaited<ReturnType<typeof seenBy>>) => seen;

  before(async () => {
    engine = await createTestEngine('pglite', { EMBEDDER: 'hashing' });
    api = await startTestApi(engine);
    user = await createUser(api.url);
    mcp = new Client({ name: 'expiry-test', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${user.api_key}` } },
      }),
    );
  });
  after(async () => {
    await mcp?.close();
    await api?.stop();
    await engine?.close();
  });

  it('saved with ttl_s 2, is on every read path, then on none, at once', async () => {
    const saved = await as('POST', '/v1/memories', {
      content: 'The Lisbon parking permit number is PX-4471 for this visit',
      ttl_s: 2,
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const read = await as('GET', `/v1/memories/${saved.body.id}`);
    const expiresIn = Date.parse(read.body.expires_at) - Date.now();
    assert.ok(expiresIn > 0 && expiresIn <= 2000, `expires in ${expiresIn} ms`);

    const query = 'what is the Lisbon parking permit number?';
    assert.deepEqual(paths(await seenBy(saved.body.id, query)), {
      ...everywhere,
      mcpSearch: true,
    });
    await sleep(Math.max(0, Date.parse(read.body.expires_at) - Date.now()) + 50);
    assert.deepEqual(paths(await seenBy(saved.body.id, query)), { ...nowhere, mcpSearch: false });
    const patched = await as('PATCH', `/v1/memories/${saved.body.id}`, { tags: ['x'] });
    assert.equal(patched.status, 404);
  });

  it('made to expire in 2 s once indexed, leaves every read path (cached ones too), then consolidation purges its row, vector and graph entries', async () => {
    const keeper = await as('POST', '/v1/memories', {
      content: 'My sister Ines Duarte lives in Coimbra',
    });
    const fleeting = await as('POST', '/v1/memories', {
      content: 'The door code at Ines Duarte flat in Coimbra is 5512 this week',
    });
    const id = fleeting.body.id as string;
    for (const saved of [keeper, fleeting]) {
      await eventually(`memory ${saved.body.id} indexed`, async () => {
        const res = await as('GET', `/v1/memories/${saved.body.id}`);
        return res.body.index_state === 'indexed';
      });
    }
    const space = engine.spaces.serving()!;
    assert.equal((await space.index.getVectors(user.user_id, [id])).size, 1);
    assert.ok((await engine.graph.entitiesOf(user.user_id, id)).length > 0, 'graph entries');

    const patched = await as('PATCH', `/v1/memories/${id}`, { ttl_s: 2 });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.revision, 1, 'an expiry is no content change: no re-index');
    const query = 'what is the door code at the Coimbra flat?';
    const warm = await seenBy(id, query);
    assert.deepEqual(paths(warm), { ...everywhere, mcpSearch: true });
    // Asked again, the context comes from the search cache, which must not serve it later.
    assert.equal((await seenBy(id, query)).contextCache, 'l1');

    await sleep(Math.max(0, Date.parse(patched.body.expires_at) - Date.now()) + 50);
    const gone = await seenBy(id, query);
    assert.deepEqual(paths(gone), { ...nowhere, mcpSearch: false });
    assert.equal(gone.contextCache, 'l1', 'served from the cache, filtered at read');
    assert.equal((await seenBy(keeper.body.id, 'where does Ines Duarte live?')).get, true);

    const result = await api.client.workflow.execute(consolidationWorkflow, {
      taskQueue: api.taskQueue,
      workflowId: `consolidation-expiry-${randomUUID()}`,
      args: [{ threshold: 0.95 }],
    });
    assert.equal(result.purged, 2, 'both expired memories purged');
    assert.equal((await space.index.getVectors(user.user_id, [id])).size, 0, 'vector gone');
    assert.deepEqual(await engine.graph.entitiesOf(user.user_id, id), [], 'graph entries gone');
    assert.equal(
      (await engine.graph.findMemories(user.user_id, ['Ines Duarte'], { limit: 10 })).some(
        (hit) => hit.memoryId === id,
      ),
      false,
    );
    assert.ok((await engine.graph.entitiesOf(user.user_id, keeper.body.id)).length > 0);
    assert.equal(
      (await engine.store.staleIndexTasks(0, 1000)).some((t) => t.memoryId === id),
      false,
      'no tombstone left behind',
    );
    const again = await api.client.workflow.execute(consolidationWorkflow, {
      taskQueue: api.taskQueue,
      workflowId: `consolidation-expiry-${randomUUID()}`,
      args: [{ threshold: 0.95 }],
    });
    assert.equal(again.purged, 0, 'a second run finds nothing to purge');
  });
});
