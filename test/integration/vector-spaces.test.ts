import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../infra/config.ts';
import { createEngineAdapters } from '../../app/engine-adapters.ts';
import { startGeminiEmulator, type GeminiEmulator } from '../../tools/gemini-emulator/emulator.ts';
import { createLogger } from '../../infra/logger.ts';
import { reembedWorkflow, reembedWorkflowId } from '../../workflows/index.ts';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import type { TestEngine } from '../support/test-engine.ts';

const HASHING = 'local:hashing@384';
const GEMINI = 'gemini:text-embedding-004@64';

/**
 * Changing the embedder of a data directory: the new embedder's space is
 * built by the re-embedding workflow on the real Temporal dev server while
 * searches keep reading the old space, and only then serves.
 */
describe('embedding spaces when the embedder changes', () => {
  let dataDir: string;
  let emulator: GeminiEmulator;
  let api: TestApi | undefined;
  let engine: TestEngine | undefined;
  let user: { user_id: string; api_key: string };
  const contents = Array.from(
    { length: 23 },
    (_, i) =>
      `Note ${i}: ${['climbing in Fontainebleau', 'sourdough starter', 'tax forms'][i % 3]}`,
  );

  const open = async (env: Record<string, string>) => {
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      EMBED_BATCH_WINDOW_MS: '5',
      VECTOR_SPACE_REFRESH_MS: '3600000',
      DATABASE_URL: '',
      STORE: 'pglite',
      ...env,
    });
    engine = { ...(await createEngineAdapters(config, createLogger('silent'))), config };
    api = await startTestApi(engine);
    return engine;
  };
  const close = async () => {
    await api?.stop();
    await engine?.close();
    api = undefined;
    engine = undefined;
  };
  const search = async (query: string) => {
    const res = await call(api!.url, 'POST', '/v1/search', {
      key: user.api_key,
      body: { query, limit: 5 },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.results as { content: string; sources: string[] }[];
  };
  const allIndexed = async () => {
    const res = await call(api!.url, 'GET', '/v1/memories?limit=100', { key: user.api_key });
    return (res.body.items as { index_state: string }[]).every((m) => m.index_state === 'indexed');
  };

  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'spaces-'));
    emulator = await startGeminiEmulator({ port: 0 });
  });
  after(async () => {
    await close();
    await emulator.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves the first embedder a data directory sees at once', async () => {
    const first = await open({ EMBEDDER: 'hashing' });
    assert.equal(first.spaces.targetState(), 'active');
    assert.equal(first.spaces.serving()?.id, HASHING);
    user = (await call(api!.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
    const saved = await call(api!.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { memories: contents.map((content) => ({ content })) },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await eventually('every memory indexed', allIndexed);
    assert.ok((await search('sourdough')).some((r) => r.sources.includes('vector')));
    await close();
  });

  it('keeps searching the old space while the new one is built, writing to both', async () => {
    const second = await open({
      EMBEDDER: 'gemini',
      GEMINI_BASE_URL: emulator.url,
      GEMINI_EMBEDDING_DIMENSION: '64',
    });
    assert.equal(second.spaces.targetState(), 'building');
    assert.equal(second.spaces.target().id, GEMINI);
    assert.equal(second.spaces.serving()?.id, HASHING);
    assert.equal(await second.spaces.target().index.count(), 0);

    const hits = await search('climbing Fontainebleau');
    assert.ok(hits.length > 0);
    assert.ok(
      hits.some((r) => r.sources.includes('vector')),
      'vector hits from the old space',
    );

    const added = await call(api!.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { content: 'Bought a new chalk bag for climbing' },
    });
    assert.equal(added.status, 201);
    await eventually('the new memory indexed', allIndexed);
    const old = second.spaces.serving()!.index;
    assert.equal(await old.count(user.user_id), contents.length + 1);
    assert.equal(await second.spaces.target().index.count(user.user_id), 1, 'written to both');
  });

  it('fills the new space with the workflow, then serves it', async () => {
    const second = engine!;
    const result = await api!.client.workflow.execute(reembedWorkflow, {
      workflowId: reembedWorkflowId(GEMINI),
      taskQueue: api!.taskQueue,
      args: [{ spaceId: GEMINI, pageSize: 5 }],
    });
    assert.equal(result.embedded, contents.length + 1);
    assert.equal(second.spaces.targetState(), 'active');
    assert.equal(second.spaces.serving()?.id, GEMINI);
    assert.equal(await second.spaces.target().index.count(user.user_id), contents.length + 1);
    const hits = await search('chalk bag');
    assert.ok(
      hits.some((r) => r.sources.includes('vector')),
      'vector hits from the new space',
    );
    assert.deepEqual(
      (await second.store.listVectorSpaces()).map((s) => [s.id, s.state]),
      [
        [HASHING, 'retired'],
        [GEMINI, 'active'],
      ],
    );
  });

  it('rebuilds a retired space when the configuration goes back to it', async () => {
    await close();
    const third = await open({ EMBEDDER: 'hashing' });
    assert.equal(third.spaces.targetState(), 'building');
    // The active space's embedder (Gemini) is not configured here: vector retrieval pauses,
    // full-text search carries on.
    assert.equal(third.spaces.serving(), null);
    const hits = await search('sourdough starter');
    assert.ok(hits.length > 0);
    assert.ok(hits.every((r) => !r.sources.includes('vector')));
  });
});
