import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGeminiEmulator, type GeminiEmulator } from '../../tools/gemini-emulator/emulator.ts';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/**
 * Gemini refusing our key is an operator's problem, not the memory's: the
 * save stays pending while the emulator refuses the key, and is indexed once
 * it accepts it again (never `failed`, which would need a reindex).
 */
describe('indexing while Gemini refuses the API key', () => {
  let emulator: GeminiEmulator;
  let engine: TestEngine;
  let api: TestApi;

  before(async () => {
    emulator = await startGeminiEmulator({ port: 0 });
    engine = await createTestEngine('pglite', {
      GEMINI_BASE_URL: emulator.url,
      GEMINI_EMBEDDING_DIMENSION: '64',
    });
    api = await startTestApi(engine);
  });
  after(async () => {
    await api.stop();
    await engine.close();
    await emulator.close();
  });

  it('keeps the memory pending while the key is refused, and indexes it once accepted', async () => {
    const user = await createUser(api.url);
    // The engine sends no such key: every call is refused (400 API_KEY_INVALID).
    emulator.configure({ apiKey: 'a-key-the-engine-does-not-have' });
    emulator.resetStats();
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: { content: 'Saved while Gemini refused our key' },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const refused = () => {
      const stats = emulator.stats();
      return stats.batchEmbedContents.rejected + stats.embedContent.rejected;
    };
    await eventually('the embedding was refused and retried', async () => refused() >= 2);
    const stateOf = async () =>
      (await call(api.url, 'GET', `/v1/memories/${saved.body.id}`, { key: user.api_key })).body
        .index_state;
    assert.equal(await stateOf(), 'pending');
    emulator.configure({ apiKey: null });
    await eventually(
      'indexed once the key is accepted',
      async () => (await stateOf()) === 'indexed',
    );
  });
});
