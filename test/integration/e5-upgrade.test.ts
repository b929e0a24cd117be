import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngineAdapters } from '../../app/engine-adapters.ts';
import { loadConfig } from '../../infra/config.ts';
import { createLogger } from '../../infra/logger.ts';
import { reembedWorkflow, reembedWorkflowId } from '../../workflows/index.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import type { TestEngine } from '../support/test-engine.ts';

const MINILM = 'local:all-MiniLM-L6-v2@384';
const E5 = 'local:e5-small-v2-q@384';

/**
 * The upgrade that made e5 the default local model, with both real models: a
 * data directory indexed with MiniLM, opened with the default configuration,
 * moves to e5's space through the re-embedding workflow (on the Temporal dev
 * server) while its searches keep reading MiniLM's space.
 */
describe('a store indexed with MiniLM, after the upgrade to e5', () => {
  let dataDir: TempDir;
  let api: TestApi | undefined;
  let engine: TestEngine | undefined;
  let user: { user_id: string; api_key: string };
  const contents = [
    'My sister moved to Lisbon last year and loves the trams.',
    'The quarterly tax return is due in April.',
    'I bought a new pair of running shoes on Saturday.',
    'The dentist appointment was moved to Thursday at 3 pm.',
    'Our sourdough starter is called Gerald and lives in the fridge.',
    'We are planning two weeks in the Scottish Highlands in late May.',
    'My manager asked me to lead the data migration project.',
  ];

  const open = async (env: Record<string, string>) => {
    const config = loadConfig({
      DATA_DIR: dataDir.path,
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
  const vectorHits = async (query: string) => {
    const res = await call(api!.url, 'POST', '/v1/search', {
      key: user.api_key,
      body: { query, limit: 3 },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.results as { content: string; sources: string[] }[]).filter((r) =>
      r.sources.includes('vector'),
    );
  };

  before(async () => {
    dataDir = await createTempDir('e5-upgrade-');
  });
  after(async () => {
    await close();
    await dataDir?.remove();
  });

  it('indexes with MiniLM while EMBEDDER=minilm', async () => {
    const first = await open({ EMBEDDER: 'minilm' });
    assert.equal(first.spaces.serving()?.id, MINILM);
    user = (await call(api!.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
    const saved = await call(api!.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { memories: contents.map((content) => ({ content })) },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await eventually('every memory indexed', async () => {
      const res = await call(api!.url, 'GET', '/v1/memories?limit=100', { key: user.api_key });
      return (res.body.items as { index_state: string }[]).every(
        (m) => m.index_state === 'indexed',
      );
    });
    assert.equal(await first.spaces.serving()!.index.count(user.user_id), contents.length);
    await close();
  });

  it('opens with the default configuration: e5 builds, searches read MiniLM meanwhile', async () => {
    const second = await open({});
    assert.equal(second.config.embedderKind, 'e5');
    assert.equal(second.spaces.target().id, E5);
    assert.equal(second.spaces.targetState(), 'building');
    assert.equal(second.spaces.serving()?.id, MINILM);
    // Found by the vector retriever among the top results (the fused order also weighs
    // full-text matches such as "lives", so it is not the vector ranking alone).
    const hits = await vectorHits('Which city does my sister live in?');
    assert.ok(
      hits.some((h) => /Lisbon/.test(h.content)),
      `no vector hit names Lisbon: ${JSON.stringify(hits.map((h) => h.content))}`,
    );
  });

  it('fills e5 space with the re-embedding workflow, then answers from it', async () => {
    const second = engine!;
    const result = await api!.client.workflow.execute(reembedWorkflow, {
      workflowId: reembedWorkflowId(E5),
      taskQueue: api!.taskQueue,
      args: [{ spaceId: E5, pageSize: 3 }],
    });
    assert.equal(result.embedded, contents.length);
    assert.equal(second.spaces.serving()?.id, E5);
    assert.deepEqual(
      (await second.store.listVectorSpaces()).map((s) => [s.id, s.state]),
      [
        [MINILM, 'retired'],
        [E5, 'active'],
      ],
    );
    // Found by the vector retriever among the top results (the fused order also weighs
    // full-text matches such as "lives", so it is not the vector ranking alone).
    const hits = await vectorHits('Which city does my sister live in?');
    assert.ok(
      hits.some((h) => /Lisbon/.test(h.content)),
      `no vector hit names Lisbon: ${JSON.stringify(hits.map((h) => h.content))}`,
    );
  });
});
