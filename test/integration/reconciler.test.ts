import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningWorker } from '../../workers/worker.ts';
import {
  createTemporalIndexingQueue,
  indexRunOfUser,
} from '../../infra/temporal/temporal-indexing-queue.ts';
import {
  indexReconcilerWorkflow,
  type IndexReconcilerInput,
  type IndexShardResult,
} from '../../workflows/index.ts';
import { eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { startTestWorker } from '../support/test-worker.ts';

/**
 * The index reconciler on the real dev server over PGlite (a database of its
 * own, so its passes see only this file's memories). Memories are stored
 * without a request, as when the process dies between the commit and the
 * workflow start; the indexing worker is off until a test starts it, so
 * requested memories stay stuck.
 */
describe('index reconciler', () => {
  let engine: TestEngine;
  let api: TestApi;
  let reconcilerWorker: RunningWorker;
  const reconcilerQueue = `test-reconciler-${randomUUID()}`;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { worker: false });
    reconcilerWorker = await startTestWorker(engine, reconcilerQueue, {
      indexingQueue: createTemporalIndexingQueue(api.client, api.taskQueue),
    });
  });
  after(async () => {
    await reconcilerWorker.stop();
    await api.stop();
    await engine.close();
  });

  const reconcile = (input: IndexReconcilerInput) =>
    api.client.workflow.execute(indexReconcilerWorkflow, {
      taskQueue: reconcilerQueue,
      workflowId: `test-reconcile-${randomUUID()}`,
      args: [input],
    });

  /** Memories stored without asking for their indexing (a lost request). */
  async function lostSaves(contents: string[]) {
    const user = await engine.store.createUser({});
    const saved = await engine.store.insertMemories(
      user.id,
      contents.map((content) => ({ content })),
    );
    return { userId: user.id, ids: saved.map((r) => r.memory.id) };
  }

  /** The indexing runs of the task queue, by workflow id: type and how many runs. */
  async function runsById() {
    const runs = new Map<string, { type: string; count: number }>();
    for await (const run of api.client.workflow.list({
      query: `TaskQueue = '${api.taskQueue}'`,
    })) {
      const seen = runs.get(run.workflowId);
      runs.set(run.workflowId, { type: run.type, count: (seen?.count ?? 0) + 1 });
    }
    return runs;
  }

  /** Whether a request for the memory reached its user's indexing run (a signal naming it). */
  async function requested(userId: string, memoryId: string) {
    const history = await api.client.workflow
      .getHandle(indexRunOfUser(userId, api.taskQueue))
      .fetchHistory()
      .catch(() => undefined);
    const decoder = new TextDecoder();
    return (history?.events ?? []).some((event) =>
      (event.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []).some((p) =>
        decoder.decode(p.data ?? new Uint8Array()).includes(memoryId),
      ),
    );
  }

  it('asks for a newer lost memory before asking again for one stuck for good', async () => {
    const stuck = await lostSaves(['Stuck for good: nothing ever indexes me']);
    const newer = await lostSaves(['Saved later, and lost too']);
    assert.equal((await reconcile({ olderThanMs: 0, limit: 1 })).requeued, 1);
    assert.ok(await requested(stuck.userId, stuck.ids[0]!), 'the oldest is asked for first');
    assert.equal(await requested(newer.userId, newer.ids[0]!), false);
    assert.equal((await reconcile({ olderThanMs: 0, limit: 1 })).requeued, 1);
    assert.ok(
      await requested(newer.userId, newer.ids[0]!),
      'the stuck one waits its turn behind the newer one',
    );
  });

  it('gives a memory up (failed) after it was asked for maxRequests times', async () => {
    const stuck = await lostSaves(['Asked for three times, then given up']);
    const stateOf = async () =>
      (await engine.store.getMemory(stuck.userId, stuck.ids[0]!))?.indexState;
    for (let pass = 0; pass < 3 && (await stateOf()) === 'pending'; pass++) {
      await reconcile({ olderThanMs: 0, limit: 500, maxRequests: 2 });
    }
    assert.equal(await stateOf(), 'failed');
  });

  it("starts one run for the user's shard however many passes ask for it, and indexes each memory once", async () => {
    const lost = await lostSaves(
      Array.from({ length: 5 }, (_, i) => `Lost request ${i}: note about topic ${i * 13}`),
    );
    await reconcile({ olderThanMs: 0, limit: 500 });
    await reconcile({ olderThanMs: 0, limit: 500 });
    await api.startWorker();
    const result: IndexShardResult = await api.client.workflow
      .getHandle(indexRunOfUser(lost.userId, api.taskQueue))
      .result();
    // The second pass's request is deduplicated in the run, or finds the memories current.
    // (The shard's run may also hold memories of the earlier tests' users in the same shard.)
    assert.ok(result.indexed >= lost.ids.length, JSON.stringify(result));
    for (const id of lost.ids) {
      assert.equal((await engine.store.getMemory(lost.userId, id))?.indexState, 'indexed');
    }
    let runs = new Map<string, { type: string; count: number }>();
    const runId = indexRunOfUser(lost.userId, api.taskQueue);
    await eventually('the run is listed', async () => {
      runs = await runsById();
      return runs.has(runId);
    });
    assert.deepEqual(runs.get(runId), { type: 'indexShardWorkflow', count: 1 });
    assert.ok(
      [...runs.values()].every((r) => r.type === 'indexShardWorkflow'),
      'no per-memory or batched run: two runs could hold the same memory at once',
    );
    assert.equal(await engine.vectors.count(lost.userId), lost.ids.length);
  });
});
