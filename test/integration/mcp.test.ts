import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createMcpRoutes } from '../../api/mcp/mcp-routes.ts';
import { apiSchemas } from '../../api/schemas.ts';
import { startServer } from '../../api/server.ts';
import type { Engine } from '../../core/engine.ts';
import { AppError } from '../../core/errors.ts';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { edgeApp } from '../support/edge-app.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOOLS = [
  'forget',
  'get_context',
  'list_memories',
  'remember',
  'remember_conversation',
  'search_memories',
  'update_memory',
];

interface User {
  user_id: string;
  api_key: string;
  key_id: string;
}

const text = (result: CallToolResult) =>
  result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

async function connect(url: string, key?: string): Promise<Client> {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    ...(key ? { requestInit: { headers: { authorization: `Bearer ${key}` } } } : {}),
  });
  await client.connect(transport);
  return client;
}

const tool = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

const TOOLS_LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A JSON-RPC message POSTed to /mcp by hand, for what the SDK client would not send. */
const rawPost = (url: string, body: unknown, headers: Record<string, string> = {}, query = '') =>
  fetch(`${url}/mcp${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });

describe('MCP over Streamable HTTP against the real API, engine and Temporal indexing', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: User;
  let bob: User;
  let aliceClient: Client;
  let bobClient: Client;
  const indexed = (who: User, id: string) =>
    eventually(`memory ${id} indexed`, async () => {
      const res = await call(api.url, 'GET', `/v1/memories/${id}`, { key: who.api_key });
      return res.body?.index_state === 'indexed';
    });

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine);
    alice = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
    bob = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
    aliceClient = await connect(api.url, alice.api_key);
    bobClient = await connect(api.url, bob.api_key);
  });
  after(async () => {
    await aliceClient?.close();
    await bobClient?.close();
    await api.stop();
    await engine.close();
  });

  it('initializes and lists the tools, with descriptions and schemas from the REST schemas', async () => {
    assert.equal(aliceClient.getServerVersion()?.name, 'memory-engine');
    assert.match(aliceClient.getInstructions() ?? '', /get_context/);
    const { tools } = await aliceClient.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    for (const t of tools) {
      assert.ok((t.description ?? '').length > 150, `${t.name} has a description for a model`);
      assert.equal(t.inputSchema.type, 'object');
      assert.ok(t.outputSchema, `${t.name} has an output schema`);
      assert.equal(JSON.stringify(t).includes('user_id'), false, `${t.name} takes no user id`);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    const context = byName.get('get_context')!.inputSchema as any;
    assert.deepEqual(Object.keys(context.properties).sort(), [
      'filters',
      'is_new_conversation',
      'message',
    ]);
    assert.deepEqual(context.required, ['message']);
    assert.equal(context.properties.message.maxLength, 8000);
    const search = byName.get('search_memories')!.inputSchema as any;
    assert.equal(search.properties.limit.maximum, 50);
    assert.equal(search.additionalProperties, false);
    const remember = byName.get('remember')!.inputSchema as any;
    assert.equal(remember.properties.content.maxLength, 5000);
    assert.equal(remember.properties.memories.maxItems, 100);
  });

  let dogId: string;
  it('remembers (acknowledged once stored), then get_context and search_memories find it', async () => {
    const saved = await tool(aliceClient, 'remember', {
      content: "My dog's name is Biscuit, a golden retriever",
      tags: ['pets'],
    });
    assert.equal(saved.isError, undefined, text(saved));
    const [memory] = (saved.structuredContent as any).memories;
    assert.equal(memory.created, true);
    dogId = memory.id;
    // Stored before the acknowledgement: REST sees it at once.
    const stored = await call(api.url, 'GET', `/v1/memories/${dogId}`, { key: alice.api_key });
    assert.equal(stored.body.content, "My dog's name is Biscuit, a golden retriever");
    assert.match(text(saved), new RegExp(dogId));

    const many = await tool(aliceClient, 'remember', {
      memories: [
        { content: 'I am training for the Berlin marathon in September', tags: ['running'] },
        { content: 'My left knee hurts after long runs' },
      ],
    });
    assert.equal((many.structuredContent as any).memories.length, 2);
    const again = await tool(aliceClient, 'remember', {
      content: "my dog's name is  Biscuit, a golden retriever",
    });
    assert.equal((again.structuredContent as any).memories[0].created, false);
    assert.equal((again.structuredContent as any).memories[0].id, dogId);

    await indexed(alice, dogId);
    for (const m of (many.structuredContent as any).memories) await indexed(alice, m.id);

    const context = await tool(aliceClient, 'get_context', { message: "what's my dog's name?" });
    assert.equal(context.isError, undefined, text(context));
    const out = context.structuredContent as any;
    assert.equal(out.memories[0].id, dogId);
    assert.match(out.context, /Biscuit/);
    assert.match(text(context), /Biscuit/);
    assert.match(text(context), new RegExp(`Memories used[\\s\\S]*${dogId}`));

    const found = await tool(aliceClient, 'search_memories', {
      query: 'my left knee hurts after long runs',
    });
    assert.equal(found.isError, undefined, text(found));
    assert.match((found.structuredContent as any).results[0].content, /knee/);
    const tagged = await tool(aliceClient, 'search_memories', {
      query: 'golden retriever',
      tags: ['pets'],
    });
    assert.deepEqual(
      (tagged.structuredContent as any).results.map((r: { id: string }) => r.id),
      [dogId],
    );
  });

  it('lists with a cursor, updates and forgets', async () => {
    const page1 = await tool(aliceClient, 'list_memories', { limit: 2 });
    const p1 = page1.structuredContent as any;
    assert.equal(p1.items.length, 2);
    assert.ok(p1.next_cursor);
    assert.match(text(page1), /next_cursor: /);
    const page2 = await tool(aliceClient, 'list_memories', { limit: 2, cursor: p1.next_cursor });
    const p2 = page2.structuredContent as any;
    assert.equal(p2.items.length, 1);
    assert.equal(p2.next_cursor, null);

    const updated = await tool(aliceClient, 'update_memory', { id: dogId, tags: ['pets', 'dog'] });
    assert.equal(updated.isError, undefined, text(updated));
    assert.deepEqual((updated.structuredContent as any).tags, ['pets', 'dog']);
    assert.equal((updated.structuredContent as any).revision, 2);

    const temp = await tool(aliceClient, 'remember', { content: 'Parking spot is B12' });
    const tempId = (temp.structuredContent as any).memories[0].id;
    const forgotten = await tool(aliceClient, 'forget', { id: tempId });
    assert.equal(forgotten.isError, undefined, text(forgotten));
    assert.deepEqual(forgotten.structuredContent, { id: tempId, deleted: true });
    assert.equal(
      (await call(api.url, 'GET', `/v1/memories/${tempId}`, { key: alice.api_key })).status,
      404,
    );
    const twice = await tool(aliceClient, 'forget', { id: tempId });
    assert.equal(twice.isError, true);
    assert.match(text(twice), /^not_found: /);
  });

  it("keeps users apart: Bob's key reaches none of Alice's memories through any tool", async () => {
    const list = await tool(bobClient, 'list_memories', {});
    assert.deepEqual((list.structuredContent as any).items, []);
    const search = await tool(bobClient, 'search_memories', {
      query: 'dog Biscuit golden retriever',
    });
    assert.deepEqual((search.structuredContent as any).results, []);
    const context = await tool(bobClient, 'get_context', { message: "what's my dog's name?" });
    assert.deepEqual((context.structuredContent as any).memories, []);
    assert.doesNotMatch(text(context), /Biscuit/);
    for (const [name, args] of [
      ['update_memory', { id: dogId, content: 'mine now' }],
      ['forget', { id: dogId }],
    ] as const) {
      const result = await tool(bobClient, name, args);
      assert.equal(result.isError, true, name);
      assert.match(text(result), /^not_found: /, name);
    }
    const still = await call(api.url, 'GET', `/v1/memories/${dogId}`, { key: alice.api_key });
    assert.match(still.body.content, /Biscuit/);
    // Bob's own memory stays his.
    await tool(bobClient, 'remember', { content: 'Bob likes chess' });
    const aliceList = await tool(aliceClient, 'list_memories', { limit: 200 });
    assert.ok(
      !(aliceList.structuredContent as any).items.some((m: { content: string }) =>
        m.content.includes('chess'),
      ),
    );
  });

  it("refuses a session to another user's key, no key, and an unknown key", async () => {
    const sessionId = (aliceClient.transport as StreamableHTTPClientTransport).sessionId!;
    const hijack = await rawPost(api.url, TOOLS_LIST, {
      ...bearer(bob.api_key),
      'mcp-session-id': sessionId,
    });
    assert.equal(hijack.status, 404);
    assert.equal(((await hijack.json()) as any).error.code, 'not_found');

    const none = await rawPost(api.url, TOOLS_LIST);
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as any).error.message, /Authorization: Bearer/);
    await assert.rejects(connect(api.url));
    await assert.rejects(connect(api.url, 'mem_not-a-real-key-at-all'));
    // Alice's session is unharmed.
    assert.equal((await aliceClient.listTools()).tools.length, TOOLS.length);
  });

  it('refuses a revoked key at once, in an open session too', async () => {
    const issued = (
      await call(api.url, 'POST', `/v1/admin/users/${alice.user_id}/keys`, { key: ADMIN_KEY })
    ).body;
    const client = await connect(api.url, issued.api_key);
    const before = await tool(client, 'list_memories', { limit: 1 });
    assert.equal(before.isError, undefined);
    const revoked = await call(api.url, 'DELETE', `/v1/admin/keys/${issued.key_id}`, {
      key: ADMIN_KEY,
    });
    assert.equal(revoked.status, 204);
    await assert.rejects(tool(client, 'list_memories', { limit: 1 }), /401|nauthorized/);
    await assert.rejects(connect(api.url, issued.api_key));
    await client.close();
  });

  it('answers bad input to every tool with a tool error naming the problem, and keeps the session', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['get_context', {}, /^bad_request: arguments\.message: /],
      ['get_context', { message: '   ' }, /arguments\.message: expected a non-empty message/],
      ['get_context', { message: 'hi', is_new_conversation: 'yes' }, /is_new_conversation/],
      ['get_context', { message: 'hi', user_id: alice.user_id }, /user_id/],
      ['remember', {}, /either content .* or memories/],
      ['remember', { content: '' }, /arguments\.content: expected non-empty content/],
      ['remember', { content: 'x'.repeat(5001) }, /at most 5000 characters/],
      ['remember', { content: 'ok', tags: [''] }, /arguments\.tags\.0: expected a non-empty tag/],
      ['remember', { memories: [] }, /arguments\.memories: expected at least 1 memory/],
      ['remember', { memories: [{ content: 42 }] }, /arguments\.memories\.0\.content/],
      ['search_memories', { query: '' }, /arguments\.query: expected a non-empty query/],
      ['search_memories', { query: 'x', limit: 51 }, /arguments\.limit: expected at most 50/],
      ['list_memories', { limit: 0 }, /arguments\.limit: expected at least 1/],
      ['list_memories', { from: 'yesterday' }, /arguments\.from: expected an ISO 8601/],
      ['update_memory', { id: 'nope', content: 'x' }, /arguments\.id: expected a UUID/],
      ['update_memory', { id: dogId }, /expected at least one of content, tags, metadata, state/],
      ['update_memory', { id: dogId, state: 'gone' }, /arguments\.state/],
      ['forget', {}, /arguments\.id/],
      ['forget', { id: '123' }, /arguments\.id: expected a UUID/],
      ['no_such_tool', {}, /^not_found: no tool named no_such_tool/],
    ];
    for (const [name, args, expected] of cases) {
      const result = await tool(aliceClient, name, args);
      assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}`);
      assert.match(text(result), expected, `${name} ${JSON.stringify(args)}`);
      assert.equal((result._meta as any)?.error?.code, text(result).split(':')[0]);
    }
    const still = await tool(aliceClient, 'search_memories', { query: 'golden retriever' });
    assert.equal(still.isError, undefined);
    assert.equal((still.structuredContent as any).results[0].id, dogId);
  });

  it('answers stateless JSON requests for clients that do not stream or keep sessions', async () => {
    const post = (body: unknown, query = '') =>
      rawPost(api.url, body, bearer(alice.api_key), query);
    const init = await post(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'curl', version: '1' },
        },
      },
      '?stateless',
    );
    assert.equal(init.status, 200);
    assert.match(init.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(init.headers.get('mcp-session-id'), null);
    assert.equal(((await init.json()) as any).result.serverInfo.name, 'memory-engine');

    const res = await post({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'search_memories', arguments: { query: 'golden retriever' } },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as any;
    assert.equal(body.id, 2);
    assert.equal(body.result.structuredContent.results[0].id, dogId);
  });

  it('ends a session on DELETE', async () => {
    const client = await connect(api.url, alice.api_key);
    const transport = client.transport as StreamableHTTPClientTransport;
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    const after = await rawPost(api.url, TOOLS_LIST, {
      ...bearer(alice.api_key),
      'mcp-session-id': sessionId,
    });
    assert.equal(after.status, 404);
    await client.close();
  });

  it('bridges stdio to /mcp: a spawned `memory-engine mcp` round-trips remember and get_context', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, 'bin/memory-engine.mjs'), 'mcp', '--url', api.url],
      env: { ...(process.env as Record<string, string>), MEMORY_ENGINE_API_KEY: bob.api_key },
      cwd: ROOT,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      assert.equal(client.getServerVersion()?.name, 'memory-engine');
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), TOOLS);
      const saved = await tool(client, 'remember', {
        content: 'Bob plays the cello in a string quartet',
      });
      assert.equal(saved.isError, undefined, text(saved));
      const id = (saved.structuredContent as any).memories[0].id;
      await indexed(bob, id);
      const context = await tool(client, 'get_context', {
        message: 'what instrument do I play?',
        is_new_conversation: true,
      });
      assert.equal(context.isError, undefined, text(context));
      assert.ok(
        (context.structuredContent as any).memories.some((m: { id: string }) => m.id === id),
        text(context),
      );
      assert.match(text(context), /cello/);
      const bad = await tool(client, 'remember', { content: '' });
      assert.equal(bad.isError, true);
      assert.match(text(bad), /^bad_request: /);
    } catch (error) {
      throw new Error(`${String(error)}\nbridge stderr:\n${stderr}`, { cause: error });
    } finally {
      await client.close();
    }
  });
});

describe('MCP session bounds', () => {
  const KEYS: Record<string, string> = { 'key-a': 'user-a', 'key-b': 'user-b' };
  const unused = () => {
    throw new Error('not used');
  };
  const stubEngine = {
    context: { context: unused },
    memories: { save: unused, list: unused, get: unused, update: unused, remove: unused },
    search: { search: unused },
  } as unknown as Engine;
  const auth = {
    async user(req: { get(name: string): string | undefined }) {
      const key = (req.get('authorization') ?? '').replace(/^Bearer /, '');
      const user = KEYS[key];
      if (!user) throw new AppError('unauthorized', 'API key is not valid or was revoked');
      return user;
    },
    admin() {},
  };

  it('closes the least recently used session beyond the bound, and idle sessions', async () => {
    const mcp = createMcpRoutes({
      engine: stubEngine,
      schemas: apiSchemas({ maxMemoryChars: 5000, maxTags: 10 }),
      auth: auth as never,
      maxSessions: 2,
      idleMs: 400,
      sweepMs: 50,
    });
    const app = edgeApp({
      mcp,
    });
    const server = await startServer(app, '127.0.0.1', 0);
    try {
      const a = await connect(server.url, 'key-a');
      const b = await connect(server.url, 'key-a');
      await a.listTools(); // a is now the most recently used
      const c = await connect(server.url, 'key-b');
      assert.equal(mcp.sessionCount(), 2);
      await a.listTools();
      await c.listTools();
      await assert.rejects(b.listTools(), /404|not found|session/i);

      await eventually('idle sessions are swept', async () => mcp.sessionCount() === 0, 5000);
      await assert.rejects(a.listTools());
      for (const client of [a, b, c]) await client.close().catch(() => undefined);
    } finally {
      await mcp.close();
      await server.stop();
    }
  });
});
