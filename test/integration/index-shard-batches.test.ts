import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { indexRunOfUser } from '../../infra/temporal/temporal-indexing-queue.ts';
import type { IndexShardResult } from '../../workflows/index.ts';
import { call, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/**
 * A shard run takes up to 256 memories per batch (one activity), so a flood of
 * saves costs a handful of activities and workflow tasks, not one per 32.
 */
describe('indexing batches of a shard run', () => {
  let engine: TestEngine;
  let api: TestApi;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine);
  });
  after(async () => {
    await api.stop();
    await engine.close();
  });

  it('indexes 300 saves of one user in at most three batches, each memory once', async () => {
    const user = await createUser(api.url);
    const ids: string[] = [];
    for (let request = 0; request < 3; request++) {
      const saved = await call(api.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: {
          memories: Array.from({ length: 100 }, (_, i) => ({
            content: `Flood note ${request * 100 + i} about topic ${(request * 100 + i) * 13}`,
          })),
        },
      });
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      ids.push(...(saved.body.ids as string[]));
    }
    const result: IndexShardResult = await api.client.workflow
      .getHandle(indexRunOfUser(user.user_id, api.taskQueue))
      .result();
    assert.equal(result.indexed, 300, JSON.stringify(result));
    // Batches of 32 would take at least ten.
    assert.ok(result.batches <= 3, `batches of up to 256: ${result.batches}`);
    assert.equal(await engine.vectors.count(user.user_id), 300);
    for (const id of [ids[0]!, ids[150]!, ids[299]!]) {
      assert.equal((await engine.store.getMemory(user.user_id, id))?.indexState, 'indexed', id);
    }
  });
});
