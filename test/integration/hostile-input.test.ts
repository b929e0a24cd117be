import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AppError } from '../../core/errors.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import {
  ADMIN_KEY,
  createUser,
  saveIndexed,
  startTestApi,
  type TestApi,
} from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';

type User = Awaited<ReturnType<typeof createUser>>;

/** A request over real HTTP: a raw body and content type when given, else JSON. */
async function send(
  url: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; raw?: string; type?: string } = {},
): Promise<{ status: number; body: any }> {
  const body =
    options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(body !== undefined ? { 'content-type': options.type ?? 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

/** Asserts a 400 in the error envelope whose message names `field`. */
function assertNamesField(res: { status: number; body: any }, field: string, what: string) {
  assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, 'bad_request', what);
  assert.ok(
    String(res.body.error.message).includes(field),
    `${what}: expected the message to name ${field}, got ${res.body.error.message}`,
  );
  assert.ok(res.body.error.request_id, what);
}

/** JSON text of `levels` nested arrays around 1, written out (JSON.stringify would recurse). */
const nestedJson = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

describe('hostile input to every /v1 route over real HTTP (PostgreSQL)', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: User;
  let bob: User;
  let aliceMemory: string;
  let aliceBefore: unknown;
  const NUL = 'a\u0000b';
  const LONE = 'x\ud800y';

  before(async () => {
    engine = await createTestEngine('postgres');
    // Every hostile request here must reach validation: the rate limiter has its own suite
    // (rate-limit.test.ts), and abuse-isolation.test.ts floods through it.
    api = await startTestApi(engine, { rateLimit: { enabled: false } });
    alice = await createUser(api.url);
    bob = await createUser(api.url);
    aliceMemory = await saveIndexed(api.url, alice.api_key, 'My sister Ana lives in Porto');
    await saveIndexed(api.url, bob.api_key, 'I keep bees in the garden behind the house');
    aliceBefore = (await send(api.url, 'GET', '/v1/memories', { key: alice.api_key })).body;
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  /** Alice's memories as the API lists them: the one saved in `before`, unchanged, is all. */
  async function assertNothingWritten() {
    const list = await send(api.url, 'GET', '/v1/memories', { key: alice.api_key });
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    assert.deepEqual(list.body, aliceBefore);
  }

  it('refuses NUL and lone surrogates in bodies, query strings and paths, naming the field', async () => {
    const one = `/v1/memories/${aliceMemory}`;
    const cases: [string, string, { body?: unknown; key?: string }, string][] = [
      ['POST', '/v1/memories', { body: { content: NUL } }, 'body.content'],
      ['POST', '/v1/memories', { body: { content: 'ok', tags: [LONE] } }, 'body.tags.0'],
      [
        'POST',
        '/v1/memories',
        { body: { content: 'ok', metadata: { [NUL]: 1 } } },
        'body.metadata',
      ],
      [
        'POST',
        '/v1/memories',
        { body: { content: 'ok', metadata: { a: { b: [LONE] } } } },
        'body.metadata.a.b.0',
      ],
      [
        'POST',
        '/v1/memories',
        { body: { memories: [{ content: 'fine one' }, { content: LONE }] } },
        'body.memories.1.content',
      ],
      ['PATCH', one, { body: { content: NUL } }, 'body.content'],
      ['PATCH', one, { body: { tags: ['ok', NUL] } }, 'body.tags.1'],
      ['PATCH', one, { body: { metadata: { note: LONE } } }, 'body.metadata.note'],
      ['POST', '/v1/search', { body: { query: 'sister', tags: ['\u0000'] } }, 'body.tags.0'],
      ['POST', '/v1/search', { body: { query: LONE } }, 'body.query'],
      ['POST', '/v1/context', { body: { message: `where does ${NUL} live?` } }, 'body.message'],
      ['GET', '/v1/memories?tag=a%00b', {}, 'query.tag'],
      ['GET', '/v1/memories?cursor=%00', {}, 'query.cursor'],
      ['GET', '/v1/memories?state=%00', {}, 'query.state'],
      ['GET', '/v1/memories/%00', {}, 'params.id'],
      ['PATCH', '/v1/memories/%00', { body: { state: 'archived' } }, 'params.id'],
      ['DELETE', '/v1/memories/%00', {}, 'params.id'],
      ['POST', '/v1/admin/users', { key: ADMIN_KEY, body: { name: NUL } }, 'body.name'],
    ];
    for (const [method, path, options, field] of cases) {
      const res = await send(api.url, method, path, { key: alice.api_key, ...options });
      assertNamesField(res, field, `${method} ${path}`);
    }
    await assertNothingWritten();
  });

  it('refuses the same input in MCP tool arguments, naming the argument', async () => {
    const client = new Client({ name: 'hostile-input-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${alice.api_key}` } },
      }),
    );
    try {
      const cases: [string, Record<string, unknown>, string][] = [
        ['remember', { content: NUL }, 'arguments.content'],
        ['remember', { memories: [{ content: 'ok' }, { content: LONE }] }, 'arguments.memories.1'],
        ['search_memories', { query: 'sister', tags: [NUL] }, 'arguments.tags.0'],
        ['get_context', { message: LONE }, 'arguments.message'],
        ['update_memory', { id: aliceMemory, metadata: { [LONE]: 1 } }, 'arguments.metadata'],
        ['list_memories', { tag: NUL }, 'arguments.tag'],
      ];
      for (const [name, args, field] of cases) {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
        assert.equal(result.isError, true, `${name}: ${text}`);
        assert.match(text, /^bad_request: /, name);
        assert.ok(text.includes(field), `${name}: expected ${field} in ${text}`);
      }
    } finally {
      await client.close();
    }
    await assertNothingWritten();
  });

  it('refuses 100k-character runs and deep metadata with a 4xx, writing nothing', async () => {
    const run = (c: string) => c.repeat(100_000);
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/memories', { content: run('a') }, 'body.content'],
      ['POST', '/v1/memories', { content: 'ok', tags: [run('-')] }, 'body.tags.0'],
      ['POST', '/v1/search', { query: run('?') }, 'body.query'],
      ['POST', '/v1/context', { message: `${run('!')}x` }, 'body.message'],
      ['PATCH', `/v1/memories/${aliceMemory}`, { content: run(' ') }, 'body.content'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await send(api.url, method, path, { key: alice.api_key, body });
      assertNamesField(res, field, `${method} ${path} ${field}`);
    }
    for (const [levels, field] of [
      [10, 'body.metadata: expected metadata nested at most 5 levels'],
      [20_000, 'body.metadata.a.0.0'],
    ] as const) {
      const raw = `{"content": "ok", "metadata": {"a": ${nestedJson(levels)}}}`;
      const res = await send(api.url, 'POST', '/v1/memories', { key: alice.api_key, raw });
      assertNamesField(res, field, `metadata ${levels} levels deep`);
    }
    await assertNothingWritten();
  });

  it('answers malformed paths, bodies, content types, cursors and dates with 4xx JSON', async () => {
    const key = alice.api_key;
    for (const path of ['/v1/memories/%ZZ', '/v1/memories/%ED%A0%80', '/v1/memories/%E0%A4%A']) {
      const res = await send(api.url, 'GET', path, { key });
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error.code, 'bad_request', path);
      assert.match(res.body.error.message, /percent-encoded/, path);
    }
    const broken = await send(api.url, 'POST', '/v1/memories', { key, raw: '{"content": ' });
    assert.equal(broken.status, 400);
    assert.match(broken.body.error.message, /not valid JSON/);
    const plain = await send(api.url, 'POST', '/v1/memories', {
      key,
      raw: 'content=hello',
      type: 'text/plain',
    });
    assert.equal(plain.status, 415);
    assert.equal(plain.body.error.code, 'unsupported_media_type');
    const latin1 = await send(api.url, 'POST', '/v1/search', {
      key,
      raw: '{"query":"x"}',
      type: 'application/json; charset=latin1',
    });
    assert.equal(latin1.status, 415);
    const utf16 = await send(api.url, 'POST', '/v1/search', {
      key,
      raw: '{"query":"x"}',
      type: 'application/json; charset=utf-16',
    });
    assert.equal(utf16.status, 400);
    assert.equal(utf16.body.error.code, 'bad_request');
    const id = '6f1c2a3e-1b2c-4d5e-8f90-0123456789ab';
    for (const time of ['0000-01-01T00:00:00.000000Z', '2026-02-30T00:00:00.000000Z', '2026']) {
      const cursor = Buffer.from(`${time}|${id}`).toString('base64url');
      const res = await send(api.url, 'GET', `/v1/memories?cursor=${cursor}`, { key });
      assert.equal(res.status, 400, time);
      assert.match(res.body.error.message, /cursor/, time);
    }
    for (const from of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00%2B01:00', 'yesterday']) {
      assertNamesField(
        await send(api.url, 'GET', `/v1/memories?from=${from}`, { key }),
        'query.from',
        from,
      );
    }
    await assertNothingWritten();
  });

  it("keeps a second user's concurrent searches and contexts answering while one sends hostile input", async () => {
    const hostile = Array.from({ length: 24 }, (_, i) =>
      send(api.url, 'POST', '/v1/search', {
        key: alice.api_key,
        body: { query: `sister ${i}`, tags: [i % 2 ? '\u0000' : LONE] },
      }),
    );
    const searches = Array.from({ length: 24 }, (_, i) =>
      send(api.url, 'POST', '/v1/search', {
        key: bob.api_key,
        body: { query: `bees in the garden ${i}`, tags: i % 2 ? [] : ['untagged', 'x'] },
      }),
    );
    const contexts = Array.from({ length: 6 }, (_, i) =>
      send(api.url, 'POST', '/v1/context', {
        key: bob.api_key,
        body: { message: `What do I keep in my garden, and why do bees matter ${i}?` },
      }),
    );
    const [refused, found, answered] = await Promise.all([
      Promise.all(hostile),
      Promise.all(searches),
      Promise.all(contexts),
    ]);
    for (const res of refused) assertNamesField(res, 'body.tags.0', 'hostile search');
    for (const res of found) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(Array.isArray(res.body.degraded));
    }
    assert.ok(found.filter((_, i) => i % 2).every((r) => /bees/.test(r.body.results[0]?.content)));
    for (const res of answered) assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});

describe('PostgreSQL data exceptions reach callers as bad_request', () => {
  const drivers: [string, () => Promise<SqlDriver>][] = [
    [
      'pg',
      () =>
        createPgDriver({
          url: requireTestEnv('TEST_PGVECTOR_URL'),
          poolSize: 1,
          statementTimeoutMs: 10_000,
          connectTimeoutMs: 10_000,
        }),
    ],
    ['PGlite', () => createPgliteDriver('memory://')],
  ];
  for (const [name, open] of drivers) {
    it(`maps SQLSTATE class 22 from ${name}, without quoting the SQL`, async () => {
      const driver = await open();
      try {
        for (const [sql, value] of [
          ['SELECT $1::text AS t', 'a\u0000b'],
          ['SELECT $1::timestamptz AS t', '0000-01-01T00:00:00Z'],
          ['SELECT $1::uuid AS t', 'not-a-uuid'],
        ] as const) {
          const error = await driver.query(sql, [value]).then(
            () => assert.fail(`${sql} should fail`),
            (e: unknown) => e,
          );
          assert.ok(error instanceof AppError, `${sql}: ${String(error)}`);
          assert.equal(error.status, 400);
          assert.doesNotMatch(error.message, /SELECT|\$1|timestamptz/);
          assert.match(String(error.details?.sqlstate), /^22/);
        }
        const inTransaction = await driver
          .transaction((tx) => tx.query('SELECT $1::timestamptz', ['0000-01-01T00:00:00Z']))
          .catch((e: unknown) => e);
        assert.ok(inTransaction instanceof AppError && inTransaction.code === 'bad_request');
      } finally {
        await driver.close();
      }
    });
  }
});
