import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GraphStore } from '../../core/ports/graph-store.ts';
import { ensureRedisServer } from '../../tools/dev-services/redis-server.ts';
import { deepPlan, planningResponder, startEmulatedEngine } from '../support/emulated-model.ts';
import { call, createUser, saveIndexed, startTestApi } from '../support/test-api.ts';

const PLAN = deepPlan(['marathon training plan', 'running injuries'], true);
// Planning prompts get a plan; anything else (entity extraction) an empty graph.
const responder = planningResponder(PLAN);

async function setup(env: Record<string, string>, deps: { graph?: GraphStore } = {}) {
  const { emulator, engine, close } = await startEmulatedEngine(responder, env);
  const api = await startTestApi(engine, { deps });
  const user = await createUser(api.url);
  const ask = async (message: string, extra: Record<string, unknown> = {}) =>
    (await call(api.url, 'POST', '/v1/context', { key: user.api_key, body: { message, ...extra } }))
      .body;
  const save = (content: string) => saveIndexed(api.url, user.api_key, content);
  const stop = async () => {
    await api.stop();
    await close();
  };
  return { emulator, engine, api, user, ask, save, stop };
}

describe('POST /v1/context with every optimisation on', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  let dogId: string;

  before(async () => {
    s = await setup({});
    dogId = await s.save("My dog's name is Biscuit, a golden retriever");
    await s.save('I am training for the Berlin marathon in September');
    await s.save('My left knee hurts after long runs');
  });
  after(() => s.stop());

  it('answers a simple lookup on the fast path without any model call', async () => {
    s.emulator.resetStats();
    const res = await s.ask("what's my dog's name?");
    assert.equal(res.plan.source, 'classifier');
    assert.equal(res.plan.class, 'simple');
    assert.equal(res.model_calls, 0);
    assert.equal(res.cache.plan, 'off');
    assert.equal(res.memories[0].id, dogId);
    assert.match(res.context, /Biscuit/);
    assert.equal(s.emulator.stats().generateContent.calls, 0);
    assert.ok(res.timings.total >= res.timings.retrieve);
  });

  it('answers a greeting with no context and no retrieval', async () => {
    const res = await s.ask('hi there!');
    assert.equal(res.context, '');
    assert.deepEqual(res.memories, []);
    assert.equal(res.model_calls, 0);
  });

  it('answers depth 0 with no context at all', async () => {
    const res = await s.ask('How should I adapt my training to my knee?', { depth: 0 });
    assert.equal(res.context, '');
    assert.equal(res.model_calls, 0);
  });

  it('plans a complex message with the model once, then serves plan and search from L1', async () => {
    const message = 'How should I adapt my marathon training given how my knee has been lately?';
    const first = await s.ask(message);
    assert.equal(first.plan.source, 'model');
    assert.equal(first.model_calls, 1);
    assert.equal(first.cache.plan, 'miss');
    assert.equal(first.cache.search, 'miss');
    assert.deepEqual(first.plan.queries, PLAN.queries);
    assert.ok(first.memories.some((m: { content: string }) => /knee/.test(m.content)));

    const again = await s.ask(`  ${message.toUpperCase()} `);
    assert.equal(again.plan.source, 'cache');
    assert.equal(again.cache.plan, 'l1');
    assert.equal(again.cache.search, 'l1');
    assert.equal(again.model_calls, 0);
    assert.deepEqual(
      again.memories.map((m: { id: string }) => m.id),
      first.memories.map((m: { id: string }) => m.id),
    );
  });

  it("forgets a user's cached results once that user saves a memory, and keeps the plan", async () => {
    const message = 'What patterns do you see in how my running has changed this year?';
    await s.ask(message);
    assert.equal((await s.ask(message)).cache.plan, 'l1');
    await s.save('Switched to trail running in the mountains');
    const after = await s.ask(message);
    // The planner sees the message alone, so the plan holds whatever the user saves.
    assert.equal(after.cache.plan, 'l1');
    assert.equal(after.model_calls, 0);
    assert.equal(after.cache.search, 'miss');
  });

  it('shares one model call among identical planning requests in flight', async () => {
    s.emulator.configure({ methods: { generateContent: { latency: { medianMs: 300 } } } });
    s.emulator.resetStats();
    const message = 'Could you help me plan my week around training, work and recovery?';
    const answers = await Promise.all(Array.from({ length: 5 }, () => s.ask(message)));
    s.emulator.configure({ methods: { generateContent: { latency: null } } });
    assert.equal(s.emulator.stats().generateContent.calls, 1);
    assert.equal(
      answers.reduce((sum, a) => sum + a.model_calls, 0),
      1,
    );
  });

  it('falls back to the heuristic plan when the model answers off-schema', async () => {
    s.emulator.configure({ responder: () => '{"strategy": "whatever"}' });
    const res = await s.ask('Why do I keep skipping my long runs, and what should I change?');
    s.emulator.configure({ responder });
    assert.equal(res.plan.source, 'heuristic');
    assert.equal(res.model_calls, 1);
    assert.ok(res.memories.length > 0);
  });

  it('rejects a bad request with a 400 naming the field', async () => {
    const res = await call(s.api.url, 'POST', '/v1/context', {
      key: s.user.api_key,
      body: { message: 'hi', depth: 7 },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /body\.depth/);
  });
});

describe('POST /v1/context when a strategy fails', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    const failingGraph = {
      kind: 'failing',
      entityNames: () => Promise.reject(new Error('graph store unreachable')),
    } as unknown as GraphStore;
    s = await setup({}, { graph: failingGraph });
  });
  after(() => s.stop());

  it('still answers from the other strategies and flags the context as partial', async () => {
    // Indexing runs with the same (failing) graph, so query the vectors of an unindexed store:
    // the context must not fail even with nothing indexed and the graph down.
    await call(s.api.url, 'POST', '/v1/memories', {
      key: s.user.api_key,
      body: { content: 'Favourite coffee is a flat white' },
    });
    const res = await s.ask('How could I change my coffee habits to sleep better overall?');
    assert.ok(res.degraded.some((d: string) => d.startsWith('graph:')));
    assert.ok(res.memories.some((m: { content: string }) => /flat white/.test(m.content)));
    assert.equal(res.cache.search, 'miss');
  });
});

describe('POST /v1/context with the naive pipeline and a rate-limited model', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup({
      CLASSIFIER_ENABLED: 'false',
      PLAN_CACHE_ENABLED: 'false',
      SEARCH_CACHE_ENABLED: 'false',
      PARALLEL_STRATEGIES: 'false',
      VECTOR_BATCHING_ENABLED: 'false',
      MODEL_RATE_PER_S: '1',
      MODEL_BURST: '1',
      MODEL_TOKEN_WAIT_MS: '1',
    });
  });
  after(() => s.stop());

  it('plans even simple messages, caches nothing, and plans heuristically once out of tokens', async () => {
    const first = await s.ask("what's my dog's name?");
    assert.equal(first.plan.source, 'model');
    assert.deepEqual(first.cache, { plan: 'off', search: 'off' });
    const second = await s.ask("what's my cat's name?");
    assert.equal(second.plan.source, 'heuristic');
    assert.equal(second.model_calls, 0);
  });
});

describe('POST /v1/context with Redis down', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    const redis = await ensureRedisServer({ projectRoot: process.cwd() });
    const url = redis.url;
    await redis.stop();
    s = await setup({ REDIS_URL: url });
  });
  after(() => s.stop());

  it('answers from L1 without errors', async () => {
    const message = 'How should I balance rest days against my training goals?';
    const first = await s.ask(message);
    assert.equal(first.plan.source, 'model');
    const again = await s.ask(message);
    assert.equal(again.cache.plan, 'l1');
    assert.equal(again.cache.search, 'l1');
  });
});

describe('graph retrieval after new entities are indexed', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    s = await setup({});
    // Extraction names every capitalised word of the memory as an entity.
    s.emulator.configure({
      responder: planningResponder(PLAN, (request) => ({
        entities: [...new Set(request.prompt.match(/\b[A-Z][a-z]{3,}\b/g) ?? [])].map((name) => ({
          name,
          type: 'person',
        })),
        relations: [],
      })),
    });
  });
  after(() => s.stop());

  it('matches a query against entities indexed after the previous query (no stale name list)', async () => {
    const graphHit = (res: any, id: string) =>
      res.memories.some((m: any) => m.id === id && m.sources.includes('graph'));
    const oriana = await s.save('Lunch with Oriana at the harbour');
    assert.ok(graphHit(await s.ask('where did I see Oriana?', { depth: 1 }), oriana));
    const zephyrine = await s.save('Zephyrine called about the flat lease');
    assert.ok(graphHit(await s.ask('what did Zephyrine want?', { depth: 1 }), zephyrine));
  });
});
