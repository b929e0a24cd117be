import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { NativeConnection } from '@temporalio/worker';
import type { Embedder } from '../../core/ports/embedder.ts';
import { singleSpace } from '../../core/ports/vector-space.ts';
import { createLogger } from '../../infra/logger.ts';
import {
  ensureMemorySearchAttributes,
  memoryTags,
  startTagged,
} from '../../infra/temporal/search-attributes.ts';
import { startWorker } from '../../workers/worker.ts';
import { INDEX_SHARDS, shardOfUser } from '../../core/indexing/shards.ts';
import { indexRunOfUser } from '../../infra/temporal/temporal-indexing-queue.ts';
import {
  indexShardWorkflow,
  indexShardWorkflowId,
  indexTargetsSignal,
  type IndexShardResult,
} from '../../workflows/index.ts';
import { call, createUser, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';

const HELD = 'HOLD: Maria Silva works at Acme Corp in Lisbon';

/** Holds every embedding call whose texts include `HELD` until `release()`. */
function gatedEmbedder(inner: Embedder) {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const embedder: Embedder = {
    id: inner.id,
    dimension: inner.dimension,
    async embed(texts) {
      if (texts.includes(HELD)) {
        enter();
        await released;
      }
      return inner.embed(texts);
    },
  };
  return { embedder, entered, release };
}

/** The runs of `query`, by workflow id: how many runs each. */
async function runsOf(client: Client, query: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  for await (const run of client.workflow.list({ query })) {
    runs.set(run.workflowId, (runs.get(run.workflowId) ?? 0) + 1);
  }
  return runs;
}

/**
 * Indexing runs per shard of users (`index-shard-<n>-<queue>`) on the real
 * dev server and worker over PGlite: a burst of saves becomes a few batched
 * passes of one run, many users' single saves a few runs (not one per user),
 * tagged with the `MemoryKind` search attribute; edits and deletes during a
 * pass are settled; a request that arrives as the run ends is not lost.
 */
describe('indexing runs by shard of users', () => {
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

  const stateOf = async (userId: string, memoryId: string) =>
    (await engine.store.getMemory(userId, memoryId))?.indexState;

  it('indexes a burst of 50 saves of one user in one run of a few batches', async () => {
    const user = await createUser(api.url);
    const saved = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(api.url, 'POST', '/v1/memories', {
          key: user.api_key,
          body: { content: `Burst note ${i} about topic ${i * 11}` },
        }),
      ),
    );
    const ids = saved.map((r) => {
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as string;
    });
    const handle = api.client.workflow.getHandle(indexRunOfUser(user.user_id, api.taskQueue));
    const result: IndexShardResult = await handle.result();
    for (const id of ids) assert.equal(await stateOf(user.user_id, id), 'indexed', id);
    assert.equal(await engine.vectors.count(user.user_id), 50);
    assert.ok(
      result.batches < 10,
      `a few batches of up to 32, not one per save: ${result.batches}`,
    );

    let runs = new Map<string, number>();
    const query = `TaskQueue = '${api.taskQueue}' AND MemoryKind = 'index'`;
    await eventually('the run is listed as an indexing run', async () => {
      runs = await runsOf(api.client, query);
      return runs.has(indexRunOfUser(user.user_id, api.taskQueue));
    });
    assert.equal(runs.get(indexRunOfUser(user.user_id, api.taskQueue)), 1, 'one run');
  });

  // A shard run takes up to 256 memories per batch (one activity), so a flood of saves costs
  // a handful of activities and workflow tasks, not one per 32.
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

  it('indexes single saves of many users in a few shard runs, not one run per user', async () => {
    const queue = `test-index-many-${randomUUID()}`;
    const many = await startTestApi(engine, { taskQueue: queue });
    try {
      const users = await Promise.all(Array.from({ length: 24 }, () => createUser(many.url)));
      const saved = await Promise.all(
        users.map((user, i) =>
          call(many.url, 'POST', '/v1/memories', {
            key: user.api_key,
            body: { content: `User ${i} keeps a note about topic ${i * 5}` },
          }),
        ),
      );
      for (const res of saved) assert.equal(res.status, 201, JSON.stringify(res.body));
      const shards = new Set(users.map((u) => shardOfUser(u.user_id)));
      for (const shard of shards) {
        await many.client.workflow.getHandle(indexShardWorkflowId(shard, queue)).result();
      }
      for (const [i, user] of users.entries()) {
        assert.equal(await stateOf(user.user_id, saved[i]!.body.id), 'indexed', user.user_id);
        assert.equal(await engine.vectors.count(user.user_id), 1);
      }
      const runs = await runsOf(many.client, `TaskQueue = '${queue}'`);
      assert.ok(runs.size <= INDEX_SHARDS, `at most one run per shard: ${runs.size}`);
      assert.deepEqual(
        [...runs.keys()].sort(),
        [...shards].map((shard) => indexShardWorkflowId(shard, queue)).sort(),
      );
    } finally {
      await many.stop();
    }
  });

  it('gathers a trickle of single saves into a few batches, not one batch per save', async () => {
    const queue = `test-index-trickle-${randomUUID()}`;
    const trickle = await startTestApi(engine, { taskQueue: queue });
    try {
      const user = await engine.store.createUser({});
      const ids = (
        await engine.store.insertMemories(
          user.id,
          Array.from({ length: 10 }, (_, i) => ({
            content: `Trickled note ${i} about topic ${i * 7}`,
          })),
        )
      ).map((r) => r.memory.id);
      const shard = shardOfUser(user.id);
      let runId = '';
      // One memory per request, 100 ms apart: without gathering, each would be a batch of its own.
      for (const memoryId of ids) {
        const started = await trickle.client.workflow.signalWithStart(indexShardWorkflow, {
          workflowId: indexShardWorkflowId(shard, queue),
          taskQueue: queue,
          args: [{ shard, idleMs: 1_000, gatherMs: 5_000 }],
          signal: indexTargetsSignal,
          signalArgs: [{ memories: [{ userId: user.id, memoryId }] }],
        });
        runId ||= started.signaledRunId;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const handle = trickle.client.workflow.getHandle(indexShardWorkflowId(shard, queue), runId);
      const result: IndexShardResult = await handle.result();
      for (const id of ids) assert.equal(await stateOf(user.id, id), 'indexed', id);
      assert.equal(result.indexed, 10);
      // The first batch goes at once; the rest wait for the gather window.
      assert.ok(result.batches <= 3, `10 trickled saves in ${result.batches} batches`);
    } finally {
      await trickle.stop();
    }
  });

  it('marks failed only the memory an index refuses, and indexes the rest of its batch', async () => {
    // A vector one number short for the refused text: the real index refuses it (bad input).
    const refusing: Embedder = {
      id: engine.embedder.id,
      dimension: engine.embedder.dimension,
      async embed(texts, options) {
        const vectors = await engine.embedder.embed(texts, options);
        return vectors.map((v, i) => (texts[i]!.includes('REFUSED') ? v.slice(1) : v));
      },
    };
    const refusal = await startTestApi(engine, {
      deps: { spaces: singleSpace(refusing, engine.vectors) },
    });
    try {
      const user = await createUser(refusal.url);
      const saved = await call(refusal.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: {
          memories: [
            { content: 'Lena rows on the river every Sunday' },
            { content: 'REFUSED: this one the index will not take' },
            { content: 'Tomas bakes sourdough on Fridays' },
          ],
        },
      });
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      const [first, refused, third] = saved.body.ids as string[];
      const result: IndexShardResult = await refusal.client.workflow
        .getHandle(indexRunOfUser(user.user_id, refusal.taskQueue))
        .result();
      assert.equal(result.failed, 1, JSON.stringify(result));
      assert.equal(await stateOf(user.user_id, refused!), 'failed');
      assert.equal(await stateOf(user.user_id, first!), 'indexed');
      assert.equal(await stateOf(user.user_id, third!), 'indexed');
      assert.equal(await engine.vectors.count(user.user_id), 2);
    } finally {
      await refusal.stop();
    }
  });

  it('re-indexes the new revision of a memory edited while it was embedded', async () => {
    const gate = gatedEmbedder(engine.embedder);
    const gated = await startTestApi(engine, {
      deps: { spaces: singleSpace(gate.embedder, engine.vectors) },
    });
    try {
      const user = await createUser(gated.url);
      const saved = await call(gated.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: { content: HELD },
      });
      const id = saved.body.id as string;
      await gate.entered;
      const edited = 'Jonas planned a trip to Berlin in May';
      const patched = await call(gated.url, 'PATCH', `/v1/memories/${id}`, {
        key: user.api_key,
        body: { content: edited },
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      gate.release();
      await gated.client.workflow.getHandle(indexRunOfUser(user.user_id, gated.taskQueue)).result();

      const memory = await engine.store.getMemory(user.user_id, id);
      assert.equal(memory?.indexState, 'indexed');
      assert.equal(memory?.content, edited);
      const [vector] = await engine.embedder.embed([edited]);
      const [hit] = await engine.vectors.search({
        userId: user.user_id,
        vector: vector!,
        limit: 1,
      });
      assert.equal(hit?.id, id);
      assert.ok(hit.score > 0.999, `the vector is the edited content's: ${hit.score}`);
    } finally {
      await gated.stop();
    }
  });

  it('leaves nothing behind for a memory deleted while it was embedded', async () => {
    const gate = gatedEmbedder(engine.embedder);
    const gated = await startTestApi(engine, {
      deps: { spaces: singleSpace(gate.embedder, engine.vectors) },
    });
    try {
      const user = await createUser(gated.url);
      const saved = await call(gated.url, 'POST', '/v1/memories', {
        key: user.api_key,
        body: { memories: [{ content: HELD }, { content: 'Claire likes the bakeries of Paris' }] },
      });
      const [heldId, otherId] = saved.body.ids as string[];
      await gate.entered;
      const deleted = await call(gated.url, 'DELETE', `/v1/memories/${heldId!}`, {
        key: user.api_key,
      });
      assert.equal(deleted.status, 204);
      gate.release();
      const result: IndexShardResult = await gated.client.workflow
        .getHandle(indexRunOfUser(user.user_id, gated.taskQueue))
        .result();
      assert.ok(result.deleted >= 1, JSON.stringify(result));
      assert.deepEqual(await engine.vectors.getVectors(user.user_id, [heldId!]), new Map());
      assert.deepEqual(await engine.graph.entitiesOf(user.user_id, heldId!), []);
      assert.equal(await engine.vectors.count(user.user_id), 1);
      assert.equal(await stateOf(user.user_id, otherId!), 'indexed');
    } finally {
      await gated.stop();
    }
  });

  it('indexes a memory requested just as the run ends, in that same run', async () => {
    const taskQueue = `test-index-shard-${randomUUID()}`;
    const user = await engine.store.createUser({});
    const [first, late] = (
      await engine.store.insertMemories(user.id, [
        { content: 'Asked for first' },
        { content: 'Asked for as the run ends' },
      ])
    ).map((r) => r.memory.id);
    const connection = await NativeConnection.connect({
      address: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
    });
    // No cache: a restarted worker takes the run's next task from the task queue at once.
    const worker = () =>
      startWorker({
        connection,
        namespace: 'default',
        taskQueue,
        deps: { ...engine, indexingQueue: { request: async () => {} } },
        logger: createLogger('silent'),
        tuning: { maxCachedWorkflows: 0 },
      });
    const shard = shardOfUser(user.id);
    const request = (memoryId: string) =>
      api.client.workflow.signalWithStart(indexShardWorkflow, {
        workflowId: indexShardWorkflowId(shard, taskQueue),
        taskQueue,
        args: [{ shard, idleMs: 1_000 }],
        signal: indexTargetsSignal,
        signalArgs: [{ memories: [{ userId: user.id, memoryId }] }],
      });
    try {
      const running = await worker();
      const started = await request(first!);
      const handle = api.client.workflow.getHandle(started.workflowId, started.signaledRunId);
      const hasEvent = async (event: 'timerStartedEventAttributes' | 'timerFiredEventAttributes') =>
        ((await handle.fetchHistory()).events ?? []).some((e) => e[event]);
      await eventually('the first memory indexed and the run idle', () =>
        hasEvent('timerStartedEventAttributes'),
      );
      await running.stop();
      // The idle timer fires with no worker to see it: the run's next task is its completion.
      await eventually('the idle timer fired', () => hasEvent('timerFiredEventAttributes'));
      const again = await request(late!);
      assert.equal(again.signaledRunId, started.signaledRunId, 'the request reached the same run');

      const restarted = await worker();
      try {
        const result: IndexShardResult = await handle.result();
        assert.equal(result.indexed, 2, JSON.stringify(result));
        assert.equal(await stateOf(user.id, late!), 'indexed');
        const runs = await runsOf(
          api.client,
          `WorkflowId = '${indexShardWorkflowId(shard, taskQueue)}'`,
        );
        assert.deepEqual([...runs.values()], [1], 'no second run was needed');
      } finally {
        await restarted.stop();
      }
    } finally {
      await connection.close();
    }
  });
});

/**
 * A namespace without the attributes (a fresh one on the run's dev server,
 * as an external Temporal would be): starts never fail for them, and once
 * they are registered in the background workflows carry them again.
 */
describe('search attributes on a namespace that lacks them', () => {
  let connection: Connection;
  let client: Client;
  const namespace = `test-attributes-${randomUUID().slice(0, 8)}`;
  const started: string[] = [];

  before(async () => {
    connection = await Connection.connect({ address: requireTestEnv('TEST_TEMPORAL_ADDRESS') });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    client = new Client({ connection, namespace });
  });
  after(async () => {
    for (const workflowId of started) {
      await client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => {});
    }
    await connection.close();
  });

  // No worker polls `nobody`: the run only has to be started, with or without the attributes.
  const start = (userId: string) =>
    startTagged(client, 'index', userId, async (tags) => {
      const workflowId = `attributes-${randomUUID()}`;
      await client.workflow.start('indexUserWorkflow', {
        workflowId,
        taskQueue: 'nobody',
        args: [{ userId }],
        ...tags,
      });
      started.push(workflowId);
      return workflowId;
    });

  it('starts untagged at first, registers them, then tags what it starts', async () => {
    // A new namespace takes a moment to be served.
    await eventually('the namespace accepts a start', () => start('user-early').then(() => true));
    await eventually('registered in the background', async () => {
      if (memoryTags(client, 'index').typedSearchAttributes === undefined) return false;
      return ensureMemorySearchAttributes(client);
    });
    let tagged: string | undefined;
    await eventually('a tagged start is accepted', async () => {
      tagged = await start('user-late');
      return memoryTags(client, 'index').typedSearchAttributes !== undefined;
    });
    await eventually('listed by user and kind', async () => {
      const runs = await runsOf(client, `MemoryUserId = 'user-late' AND MemoryKind = 'index'`);
      return runs.has(tagged!);
    });
  });
});
