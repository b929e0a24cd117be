import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { main as cli } from '../../cli/main.ts';
import {
  startGeminiEmulator,
  type EmulatorGenerateRequest,
  type GeminiEmulator,
} from '../../tools/gemini-emulator/emulator.ts';
import { closeOnFailure } from '../support/close-on-failure.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import {
  call,
  createUser,
  eventually,
  saveIndexed,
  startTestApi,
  type TestApi,
} from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

type User = Awaited<ReturnType<typeof createUser>>;
interface Turn {
  role: string;
  content: string;
  at?: string;
}

const user = (content: string, at?: string): Turn => ({
  role: 'user',
  content,
  ...(at ? { at } : {}),
});
const assistant = (content: string): Turn => ({ role: 'assistant', content });

async function connectMcp(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'conversations-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/**
 * Conversations in, end to end: the real API and MCP over one PGlite engine
 * whose model and embeddings are the Gemini emulator's (its default answers,
 * unless a test sets a responder), and a second API over the same stores with
 * no model at all, for the classifier's local rule. Indexing runs on the
 * run's Temporal dev server.
 */
describe('conversations in', () => {
  let emulator: GeminiEmulator;
  let engine: TestEngine;
  let modelApi: TestApi;
  let localApi: TestApi;

  before(async () => {
    emulator = await startGeminiEmulator({ port: 0 });
    engine = await closeOnFailure(
      () => emulator.close(),
      () =>
        createTestEngine('pglite', {
          GEMINI_BASE_URL: emulator.url,
          GEMINI_EMBEDDING_DIMENSION: '64',
        }),
    );
    modelApi = await startTestApi(engine);
    // The same stores and indexing worker, with no model: the local rule.
    localApi = await startTestApi(engine, {
      deps: { model: null },
      taskQueue: modelApi.taskQueue,
      worker: false,
    });
  });
  after(async () => {
    await localApi?.stop();
    await modelApi?.stop();
    await engine?.close();
    await emulator?.close();
  });

  const as = (api: () => TestApi, who: User) => (method: string, route: string, body?: unknown) =>
    call(api().url, method, route, { key: who.api_key, ...(body !== undefined ? { body } : {}) });

  describe('with the model (the Gemini emulator)', () => {
    let alice: User;
    let bob: User;
    let asAlice: ReturnType<typeof as>;
    let asBob: ReturnType<typeof as>;
    before(async () => {
      alice = await createUser(modelApi.url);
      bob = await createUser(modelApi.url);
      asAlice = as(() => modelApi, alice);
      asBob = as(() => modelApi, bob);
    });

    it("saves the facts of the user's turns (never the assistant's), dated by `at`, and indexes them", async () => {
      const res = await asAlice('POST', '/v1/conversations', {
        messages: [
          user('Hi! My sister Lena lives in Porto. Can you suggest a gift for her?'),
          assistant("I'm a vegetarian assistant. Maybe a cookbook?"),
          user(
            "I started learning the cello, so I'd like a music shop too.",
            '2026-11-02T18:00:00+01:00',
          ),
        ],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(res.body.extraction, { source: 'model', model_calls: 1 });
      const created = res.body.created as { id: string; content: string; occurred_at: string }[];
      assert.deepEqual(
        created.map((m) => m.content),
        ['My sister Lena lives in Porto.', 'I started learning the cello'],
      );
      assert.deepEqual(
        res.body.created.map((m: { message: number }) => m.message),
        [0, 2],
      );
      assert.equal(created[1]!.occurred_at, '2026-11-02T17:00:00.000Z');
      assert.deepEqual(res.body.updated, []);
      for (const { id } of created) {
        await eventually(`memory ${id} indexed`, async () => {
          return (await asAlice('GET', `/v1/memories/${id}`)).body.index_state === 'indexed';
        });
      }
      const found = await asAlice('POST', '/v1/search', { query: 'cello lessons' });
      assert.equal(found.body.results[0]?.id, created[1]!.id);
      const all = await asAlice('GET', '/v1/memories');
      assert.ok(!all.body.items.some((m: { content: string }) => /vegetarian/.test(m.content)));
    });

    it('updates the memory a fact changes, keeping its old revision, and changes nothing when sent again', async () => {
      const porto = await saveIndexed(modelApi.url, bob.api_key, 'I live in Porto');
      const conversation = {
        messages: [user('I live in Lisbon now. My dog is called Pico.', '2026-10-01T09:00:00Z')],
      };
      const first = await asBob('POST', '/v1/conversations', conversation);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.updated.length, 1, JSON.stringify(first.body));
      const [updated] = first.body.updated;
      assert.equal(updated.id, porto);
      assert.equal(updated.content, 'I live in Lisbon now.');
      assert.equal(updated.revision, 2);
      assert.deepEqual(updated.previous, { revision: 1, content: 'I live in Porto' });
      assert.deepEqual(
        first.body.created.map((m: { content: string }) => m.content),
        ['My dog is called Pico.'],
      );

      const read = await asBob('GET', `/v1/memories/${porto}`);
      assert.equal(read.body.content, 'I live in Lisbon now.');
      assert.equal(read.body.occurred_at, '2026-10-01T09:00:00.000Z');
      const revisions = await asBob('GET', `/v1/memories/${porto}/revisions`);
      assert.equal(revisions.status, 200);
      assert.deepEqual(
        revisions.body.items.map((r: { revision: number; content: string }) => [
          r.revision,
          r.content,
        ]),
        [[1, 'I live in Porto']],
      );
      assert.equal((await asAlice('GET', `/v1/memories/${porto}/revisions`)).status, 404);
      await eventually('the update indexed', async () => {
        return (await asBob('GET', `/v1/memories/${porto}`)).body.index_state === 'indexed';
      });

      const again = await asBob('POST', '/v1/conversations', conversation);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual([again.body.created, again.body.updated], [[], []]);
      assert.deepEqual(
        again.body.skipped.map((s: { reason: string; memory_id: string }) => s.reason),
        ['repeat', 'repeat'],
      );
      assert.equal(again.body.skipped[0].memory_id, porto);
      assert.equal((await asBob('GET', `/v1/memories/${porto}`)).body.revision, 2);
    });

    it("never shows the model, nor lets it change, another user's memories, whatever id it names", async () => {
      const carol = await createUser(modelApi.url);
      const dave = await createUser(modelApi.url);
      const carolsId = await saveIndexed(modelApi.url, carol.api_key, 'I work at the Acme bakery');
      const davesId = await saveIndexed(modelApi.url, dave.api_key, 'I bake sourdough!');
      let prompt = '';
      emulator.configure({
        responder: (request: EmulatorGenerateRequest) => {
          prompt = request.prompt;
          return JSON.stringify({
            facts: [
              { content: 'I work at the Zenith bakery', message: 0, action: 'update', memory_id: carolsId }, // prettier-ignore
              { content: 'I bake sourdough', message: 0, action: 'repeat', memory_id: carolsId },
            ],
          });
        },
      });
      try {
        const res = await call(modelApi.url, 'POST', '/v1/conversations', {
          key: dave.api_key,
          body: { messages: [user('I work at the Zenith bakery. I bake sourdough.')] },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.deepEqual(
          res.body.created.map((m: { content: string }) => m.content),
          ['I work at the Zenith bakery'],
          'a fact naming a memory outside the caller’s candidates is added for the caller',
        );
        assert.deepEqual(res.body.updated, []);
        assert.deepEqual(
          res.body.skipped.map((m: { reason: string; memory_id: string }) => [
            m.reason,
            m.memory_id,
          ]),
          [['repeat', davesId]],
          'or, when the caller has it already, is a repeat of the caller’s own memory',
        );
      } finally {
        emulator.configure({ responder: null });
      }
      assert.ok(!prompt.includes(carolsId) && !prompt.includes('Acme'), prompt);
      const carols = await call(modelApi.url, 'GET', `/v1/memories/${carolsId}`, {
        key: carol.api_key,
      });
      assert.equal(carols.body.content, 'I work at the Acme bakery');
      assert.equal(carols.body.revision, 1);
    });

    it('falls back to the local rule when the model answers off-schema or fails, and says why', async () => {
      const erin = await createUser(modelApi.url);
      const messages = [user('My cat is called Miso. What should I cook tonight?')];
      emulator.configure({ responder: () => '{"facts": [{"content": 42}]}' });
      try {
        const res = await call(modelApi.url, 'POST', '/v1/conversations', {
          key: erin.api_key,
          body: { messages },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.deepEqual(res.body.extraction, {
          source: 'local',
          fallback: 'off_schema',
          model_calls: 1,
        });
        assert.deepEqual(
          res.body.created.map((m: { content: string }) => m.content),
          ['My cat is called Miso.'],
        );
      } finally {
        emulator.configure({ responder: null });
      }
      emulator.configure({ methods: { generateContent: { failures: { serverError: 1 } } } });
      try {
        const res = await call(modelApi.url, 'POST', '/v1/conversations', {
          key: erin.api_key,
          body: { messages: [user('I own a red bicycle.')] },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.extraction.fallback, 'model_error');
      } finally {
        emulator.configure({ methods: { generateContent: { failures: null } } });
      }
    });
  });

  describe("without a model (the classifier's save rule)", () => {
    let frank: User;
    let asFrank: ReturnType<typeof as>;
    let mcp: Client;
    before(async () => {
      frank = await createUser(localApi.url);
      asFrank = as(() => localApi, frank);
      mcp = await connectMcp(localApi.url, frank.api_key);
    });
    after(async () => {
      await mcp?.close();
    });

    it("splits the user's statements into sentences, saves those worth keeping and says why it skipped the rest", async () => {
      const cat = (await asFrank('POST', '/v1/memories', { content: 'My cat is called Biscuit' }))
        .body.id as string;
      const res = await asFrank('POST', '/v1/conversations', {
        messages: [
          user('Hi! my cat is called biscuit. I live in Ghent. Can you suggest a restaurant?'),
          assistant('I live in the cloud. Try Publiek.'),
          user("Remember that I'm allergic to peanuts", '2026-09-09T12:00:00Z'),
          user('I live in Ghent'),
        ],
        tags: ['chat'],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual(res.body.extraction, { source: 'local', model_calls: 0 });
      assert.deepEqual(
        res.body.created.map((m: { content: string; message: number }) => [m.message, m.content]),
        [
          [0, 'I live in Ghent.'],
          [2, "I'm allergic to peanuts"],
        ],
      );
      assert.equal(res.body.created[1].occurred_at, '2026-09-09T12:00:00.000Z');
      const skipped = res.body.skipped.map((s: { reason: string; content: string }) => [
        s.reason,
        s.content,
      ]);
      assert.deepEqual(skipped, [
        ['not_memorable', 'Hi!'],
        ['repeat', 'my cat is called biscuit.'],
        ['not_memorable', 'Can you suggest a restaurant?'],
        ['repeat', 'I live in Ghent'],
      ]);
      assert.equal(res.body.skipped[1].memory_id, cat);
      assert.equal(res.body.skipped[3].memory_id, res.body.created[0].id);
      const saved = await asFrank('GET', `/v1/memories/${res.body.created[0].id}`);
      assert.deepEqual(saved.body.tags, ['chat']);
    });

    it('refuses bad conversations with a 400 that names the field', async () => {
      const lone = '\uD800';
      const cases: [unknown, RegExp][] = [
        [{ messages: [user('nul \u0000 here')] }, /body\.messages\.0\.content: contains a NUL/],
        [{ messages: [user(`lone ${lone}`)] }, /body\.messages\.0\.content: contains a lone/],
        [{ messages: [{ role: 'robot', content: 'x' }] }, /body\.messages\.0\.role: expected user, assistant or system/], // prettier-ignore
        [{ messages: [user('x'.repeat(16_001))] }, /body\.messages\.0\.content: expected at most 16000/], // prettier-ignore
        [{ messages: Array.from({ length: 7 }, () => user('y'.repeat(15_000))) }, /body\.messages: expected at most 100000 characters/], // prettier-ignore
        [{ messages: Array.from({ length: 201 }, () => user('hi')) }, /body\.messages: expected at most 200 messages/], // prettier-ignore
        [{ messages: [assistant('I live in Ghent')] }, /body\.messages: expected at least one non-empty message with role user/], // prettier-ignore
        [{ messages: [user('I live in Ghent', 'yesterday')] }, /body\.messages\.0\.at: expected an ISO 8601/], // prettier-ignore
        [{ messages: [user('x')], extra: 1 }, /body: Unrecognized key/i],
        [{ messages: 'hello' }, /body\.messages: expected an array of messages/],
      ];
      for (const [body, field] of cases) {
        const res = await asFrank('POST', '/v1/conversations', body);
        assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.status}`);
        assert.match(res.body.error.message, field);
      }
      const missing = await asFrank('GET', '/v1/memories/00000000-0000-4000-8000-000000000000/revisions'); // prettier-ignore
      assert.equal(missing.status, 404);
    });

    it('does the same over MCP with remember_conversation, and refuses bad arguments naming them', async () => {
      const result = (await mcp.callTool({
        name: 'remember_conversation',
        arguments: {
          messages: [user('My brother Tom lives in Oslo. Thanks!'), assistant('Noted.')],
        },
      })) as CallToolResult;
      assert.equal(result.isError, undefined, JSON.stringify(result));
      const out = result.structuredContent as { created: { id: string; content: string }[] };
      assert.deepEqual(
        out.created.map((m) => m.content),
        ['My brother Tom lives in Oslo.'],
      );
      const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      assert.match(text, /1 created, 0 updated, 1 skipped/);
      const bad = (await mcp.callTool({
        name: 'remember_conversation',
        arguments: { messages: [{ role: 'robot', content: 'x' }] },
      })) as CallToolResult;
      assert.equal(bad.isError, true);
      assert.match(JSON.stringify(bad.content), /arguments\.messages\.0\.role/);
    });

    it('takes occurred_at, expires_at and ttl_s on MCP remember, as POST /v1/memories does', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const remember = async (args: Record<string, unknown>) =>
        (await mcp.callTool({ name: 'remember', arguments: args })) as CallToolResult;
      const one = await remember({
        content: 'Ran the Ghent 10k',
        occurred_at: '2025-05-04T10:00:00+02:00',
        ttl_s: 3600,
      });
      assert.equal(one.isError, undefined, JSON.stringify(one));
      const [saved] = (one.structuredContent as { memories: { id: string }[] }).memories;
      const read = (await asFrank('GET', `/v1/memories/${saved!.id}`)).body;
      assert.equal(read.occurred_at, '2025-05-04T08:00:00.000Z');
      const ttl = Date.parse(read.expires_at) - Date.now();
      assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `expires in ${ttl} ms`);

      const many = await remember({
        memories: [
          { content: 'Parking spot B12 this week', expires_at: expiresAt },
          { content: 'Adopted a kitten', occurred_at: '2024-12-24T18:00:00Z' },
        ],
      });
      const [spot, kitten] = (many.structuredContent as { memories: { id: string }[] }).memories;
      assert.equal((await asFrank('GET', `/v1/memories/${spot!.id}`)).body.expires_at, expiresAt);
      assert.equal(
        (await asFrank('GET', `/v1/memories/${kitten!.id}`)).body.occurred_at,
        '2024-12-24T18:00:00.000Z',
      );

      const refusals: [Record<string, unknown>, RegExp][] = [
        [{ content: 'x', expires_at: expiresAt, ttl_s: 60 }, /ttl_s: expected either expires_at or ttl_s/], // prettier-ignore
        [{ content: 'x', expires_at: '2001-01-01T00:00:00Z' }, /arguments\.expires_at: expected a time in the future/], // prettier-ignore
        [
          { content: 'x', occurred_at: 'last week' },
          /arguments\.occurred_at: expected an ISO 8601/,
        ],
        [{ content: 'x', ttl_s: 0 }, /arguments\.ttl_s: expected at least 1/],
        [{ memories: [{ content: 'x' }], ttl_s: 60 }, /inside each of memories/],
        [{ memories: [{ content: 'x', ttl_s: 1, expires_at: expiresAt }] }, /arguments\.memories\.0\.ttl_s: expected either/], // prettier-ignore
      ];
      for (const [args, message] of refusals) {
        const refused = await remember(args);
        assert.equal(refused.isError, true, JSON.stringify(args));
        assert.match(JSON.stringify(refused.content), message);
      }
    });

    it('is a verb of the command line: remember-conversation FILE.json', async () => {
      const dir: TempDir = await createTempDir('conversation-cli-');
      try {
        const file = path.join(dir.path, 'chat.json');
        await writeFile(file, JSON.stringify([user('I joined a brass band.')]));
        let stdout = '';
        let stderr = '';
        const code = await cli(['remember-conversation', file, '--tag', 'cli', '--json'], {
          env: { MEMORY_ENGINE_URL: localApi.url, MEMORY_ENGINE_API_KEY: frank.api_key },
          stdout: { write: (s: string) => ((stdout += s), true) } as never,
          stderr: { write: (s: string) => ((stderr += s), true) } as never,
        });
        assert.equal(code, 0, stderr);
        const result = JSON.parse(stdout);
        assert.deepEqual(
          result.created.map((m: { content: string }) => m.content),
          ['I joined a brass band.'],
        );
        const saved = await asFrank('GET', `/v1/memories/${result.created[0].id}`);
        assert.deepEqual(saved.body.tags, ['cli']);
        const missing = await cli(['remember-conversation', path.join(dir.path, 'none.json')], {
          env: { MEMORY_ENGINE_URL: localApi.url, MEMORY_ENGINE_API_KEY: frank.api_key },
          stdout: { write: () => true } as never,
          stderr: { write: () => true } as never,
        });
        assert.equal(missing, 2, 'a file that cannot be read is a usage error');
      } finally {
        await dir.remove();
      }
    });
  });
});
