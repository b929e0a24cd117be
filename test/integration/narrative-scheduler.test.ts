import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import type { MemoryUsage } from '../../activities/narrative-activities.ts';
import { localNarrative, type Narrator } from '../../core/narrative/narrator.ts';
import type { NarrativeRequest } from '../../core/ports/narrative-queue.ts';
import { createLogger } from '../../infra/logger.ts';
import {
  ensureNarrativeFeederSchedule,
  narrativeFeederScheduleId,
} from '../../infra/temporal/narrative-schedules.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import {
  createTemporalNarrativeQueue,
  type TemporalNarrativeQueue,
} from '../../infra/temporal/temporal-narrative-queue.ts';
import type { NarrativeSchedulerInput } from '../../workflows/index.ts';
import { exitOf, spawnScriptUntilReady } from '../support/child-process.ts';
import { eventually } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';
import { startTestWorker } from '../support/test-worker.ts';

const address = requireTestEnv('TEST_TEMPORAL_ADDRESS');
const logger = createLogger('silent');
installTemporalRuntime(logger);

/**
 * The local narrator, instrumented: records who started and when, how many
 * ran at once, and can hold every call at a gate the test opens one by one.
 */
function gatedNarrator() {
  const failFor = new Set<string>();
  const starts: string[] = [];
  const waiting: (() => void)[] = [];
  let open = true;
  let active = 0;
  let maxActive = 0;
  const narrator: Narrator = {
    async write(memories) {
      const userId = memories[0]?.userId ?? 'unknown';
      starts.push(userId);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (failFor.has(userId)) throw new Error('the model fell over');
        if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
        return { content: localNarrative(memories), model: 'gated-local', modelCalls: 0 };
      } finally {
        active--;
      }
    },
  };
  return {
    narrator,
    starts,
    /** Users whose every generation fails. */
    failFor,
    waiting: () => waiting.length,
    maxActive: () => maxActive,
    hold() {
      open = false;
    },
    releaseOne() {
      waiting.shift()?.();
    },
    openAll() {
      open = true;
      for (const release of waiting.splice(0)) release();
    },
  };
}

interface Harness {
  engine: TestEngine;
  client: Client;
  queue: TemporalNarrativeQueue;
  taskQueue: string;
  gate: ReturnType<typeof gatedNarrator>;
  memory: MemoryUsage;
  users(count: number): Promise<string[]>;
  narrativeCount(userId: string): Promise<number>;
  stop(): Promise<void>;
}

/** A real worker on a task queue of its own, over PGlite, with the gated narrator and a settable memory reading. */
async function startHarness(scheduler: NarrativeSchedulerInput): Promise<Harness> {
  const engine = await createTestEngine('pglite');
  const taskQueue = `test-narratives-${randomUUID()}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const queue = createTemporalNarrativeQueue(client, taskQueue, {
    scheduler,
    coalesceMs: 50,
    repeatWindowMs: 0,
  });
  const gate = gatedNarrator();
  const memory: MemoryUsage = { usedMb: 100, budgetMb: 1000 };
  const worker = await startTestWorker(engine, taskQueue, {
    narrator: gate.narrator,
    memoryUsage: () => ({ ...memory }),
    narrativeQueue: queue,
  });
  return {
    engine,
    client,
    queue,
    taskQueue,
    gate,
    memory,
    async users(count) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const user = await engine.store.createUser({ name: `narrative user ${i}` });
        await engine.store.insertMemory(user.id, { content: `I am user ${i} and I like hiking.` });
        ids.push(user.id);
      }
      return ids;
    },
    async narrativeCount(userId) {
      return (await engine.store.latestNarrative(userId))?.version ?? 0;
    },
    async stop() {
      gate.openAll();
      await client.workflow
        .getHandle(queue.workflowId)
        .terminate('test over')
        .catch(() => undefined);
      await queue.close();
      await worker.stop();
      await connection.close();
      await engine.close();
    },
  };
}

const statusOf = async (queue: TemporalNarrativeQueue) => {
  const status = await queue.status();
  assert.ok(status, 'the scheduler is running');
  return status;
};

describe('narrative scheduler: priority order under load', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ memoryPollMs: 500 });
  });
  after(() => h.stop());

  it('serves high before normal before low, first come first served, raising queued users', async () => {
    const [l1, n1, h1, l2, n2, l3, h2, n3, l4, n4, late] = await h.users(11);
    const paused = await h.queue.pause('lining up the test');
    assert.equal(paused.pauseReason, 'operator');
    const arrivals: NarrativeRequest[] = [
      { userId: l1!, priority: 'low' },
      { userId: n1!, priority: 'normal' },
      { userId: h1!, priority: 'high' },
      { userId: l2!, priority: 'low' },
      { userId: n2!, priority: 'normal' },
      { userId: l3!, priority: 'low' },
      { userId: h2!, priority: 'high' },
      { userId: n3!, priority: 'normal' },
      { userId: l4!, priority: 'low' },
      { userId: n4!, priority: 'normal' },
    ];
    await h.queue.enqueue(arrivals.filter((r) => r.priority !== 'low'));
    await h.queue.enqueue(arrivals.filter((r) => r.priority === 'low'));
    await h.queue.flush();
    // l3 is asked for again at high priority; n1 again at low, which must not demote it.
    await h.queue.enqueue([
      { userId: l3!, priority: 'high' },
      { userId: n1!, priority: 'low' },
    ]);
    await h.queue.flush();
    await eventually(
      'all ten queued once',
      async () => (await statusOf(h.queue)).queueLength === 10,
    );
    const queued = await statusOf(h.queue);
    assert.deepEqual(
      queued.upNext.map((r) => r.userId),
      [h1, h2, l3, n1, n2, n3, n4, l1, l2, l4],
    );
    assert.equal(queued.head?.userId, h1);
    assert.equal(h.gate.starts.length, 0, 'nothing starts while paused');

    h.gate.hold();
    await h.queue.resume();
    await eventually('three generations at the gate', async () => h.gate.waiting() === 3);
    assert.deepEqual(new Set(h.gate.starts), new Set([h1, h2, l3]));

    // Under load (three running, seven waiting): a newcomer at high and a raise both go first.
    await h.queue.enqueue([{ userId: late!, priority: 'high' }]);
    await h.queue.enqueue([{ userId: n4!, priority: 'high' }]);
    await eventually(
      'the newcomer queued',
      async () => (await statusOf(h.queue)).head?.userId === late,
    );
    // One slot frees at a time, so each next start is exactly the queue's head.
    for (let served = 3; served < 11; served++) {
      h.gate.releaseOne();
      await eventually(`start #${served + 1}`, async () => h.gate.starts.length === served + 1);
    }
    assert.deepEqual(h.gate.starts.slice(3), [late, n4, n1, n2, n3, l1, l2, l4]);
    h.gate.openAll();
    await eventually(
      'all eleven processed',
      async () => (await statusOf(h.queue)).processed === 11,
    );
    const done = await statusOf(h.queue);
    assert.equal(done.generated, 11);
    assert.equal(done.failed, 0);
    assert.equal(done.queueLength, 0);
    for (const userId of [l1, n1, h1, l2, n2, l3, h2, n3, l4, n4, late]) {
      assert.equal(await h.narrativeCount(userId!), 1, `one narrative for ${userId}`);
    }
  });
});

describe('narrative scheduler: concurrency and failures', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      memoryPollMs: 500,
      generation: { maxAttempts: 2, retryInitialMs: 100 },
    });
  });
  after(() => h.stop());

  it('never runs more than three generations at once, and uses all three', async () => {
    const users = await h.users(10);
    h.gate.hold();
    await h.queue.enqueue(users.map((userId) => ({ userId, priority: 'normal' })));
    await eventually('three held at the gate', async () => h.gate.waiting() === 3);
    const busy = await statusOf(h.queue);
    assert.equal(busy.inFlight.length, 3);
    assert.equal(busy.maxInFlight, 3);
    assert.equal(busy.queueLength, 7);
    const observed: number[] = [];
    // Let them through one at a time, sampling what the scheduler says it runs.
    for (let released = 0; released < 10; released++) {
      await eventually('a generation at the gate', async () => h.gate.waiting() > 0);
      observed.push((await statusOf(h.queue)).inFlight.length);
      h.gate.releaseOne();
    }
    await eventually('all ten processed', async () => (await statusOf(h.queue)).processed === 10);
    assert.equal(h.gate.maxActive(), 3);
    assert.ok(
      observed.every((n) => n <= 3),
      `in flight seen: ${observed.join(',')}`,
    );
    assert.equal(h.gate.starts.length, 10);
  });

  it('retries a failing generation, records it as failed, and serves the rest of the queue', async () => {
    h.gate.openAll();
    const [poison, good1, good2] = await h.users(3);
    h.gate.failFor.add(poison!);
    const before = await statusOf(h.queue);
    const unknown = randomUUID();
    await h.queue.enqueue([
      { userId: poison!, priority: 'high' },
      { userId: unknown, priority: 'high' },
      { userId: good1!, priority: 'normal' },
      { userId: good2!, priority: 'normal' },
    ]);
    await eventually('both failures recorded', async () => {
      const s = await statusOf(h.queue);
      return s.failed === before.failed + 2 && s.processed === before.processed + 2;
    });
    const after = await statusOf(h.queue);
    const failures = new Map(after.recentFailures.map((f) => [f.userId, f.error]));
    assert.match(failures.get(unknown) ?? '', /UnknownUser/);
    assert.match(failures.get(poison!) ?? '', /the model fell over/);
    assert.equal(h.gate.starts.filter((u) => u === poison).length, 2, 'tried twice, then dropped');
    assert.equal(await h.narrativeCount(poison!), 0);
    assert.equal(await h.narrativeCount(good1!), 1);
    assert.equal(await h.narrativeCount(good2!), 1);
    assert.equal(after.queueLength, 0);
  });
});

describe('narrative scheduler: memory pressure', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ memoryPollMs: 200 });
  });
  after(() => h.stop());

  const readingsOf = async () => (await statusOf(h.queue)).memory?.readings ?? 0;
  const moreReadings = async (count: number) => {
    const from = await readingsOf();
    await eventually(
      `${count} more memory readings`,
      async () => (await readingsOf()) >= from + count,
    );
  };

  it('starts nothing above 70 % of the budget, stays paused at 68 %, and resumes below 65 %', async () => {
    const users = await h.users(3);
    h.memory.usedMb = 750;
    await h.queue.enqueue(users.map((userId) => ({ userId, priority: 'high' })));
    await eventually('paused for memory', async () => (await statusOf(h.queue)).memoryPaused);
    let status = await statusOf(h.queue);
    assert.equal(status.pauseReason, 'memory');
    assert.equal(status.queueLength, 3);
    assert.deepEqual(status.memory && [status.memory.usedMb, status.memory.budgetMb], [750, 1000]);
    assert.equal(h.gate.starts.length, 0, 'the first reading came before any generation');

    h.memory.usedMb = 680;
    await moreReadings(2);
    status = await statusOf(h.queue);
    assert.equal(status.pauseReason, 'memory', 'between 65 % and 70 % it stays paused');
    assert.equal(h.gate.starts.length, 0);

    h.memory.usedMb = 500;
    await eventually('resumed and done', async () => (await statusOf(h.queue)).processed === 3);
    assert.equal((await statusOf(h.queue)).paused, false);
  });

  it('lets running generations finish but starts no more while memory is high mid-batch', async () => {
    const users = await h.users(6);
    h.gate.hold();
    await h.queue.enqueue(users.map((userId) => ({ userId, priority: 'normal' })));
    await eventually('three running', async () => h.gate.waiting() === 3);
    h.memory.usedMb = 900;
    await eventually('paused for memory', async () => (await statusOf(h.queue)).memoryPaused);
    h.gate.openAll();
    await eventually(
      'the running three finish',
      async () => (await statusOf(h.queue)).processed === 6,
    );
    await moreReadings(2);
    const status = await statusOf(h.queue);
    assert.equal(status.queueLength, 3);
    assert.equal(status.inFlight.length, 0);
    assert.equal(h.gate.starts.filter((u) => users.includes(u)).length, 3);

    h.memory.usedMb = 100;
    await eventually('the rest done', async () => (await statusOf(h.queue)).processed === 9);
    for (const userId of users) assert.equal(await h.narrativeCount(userId), 1);
  });
});

describe('narrative scheduler: continue-as-new', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ memoryPollMs: 500, continueAsNewAfterEvents: 40 });
  });
  after(() => h.stop());

  const runIdOf = async () =>
    (await h.client.workflow.getHandle(h.queue.workflowId).describe()).runId;

  it('carries the queue, its order, the counters and the pause into the next run', async () => {
    const first = await h.users(2);
    await h.queue.enqueue(first.map((userId) => ({ userId, priority: 'normal' })));
    await eventually('first two processed', async () => (await statusOf(h.queue)).processed === 2);
    await h.queue.pause('holding for continue-as-new');
    const runBefore = await runIdOf();

    const users = await h.users(12);
    const priorityOf = (i: number) => (['low', 'normal', 'high'] as const)[i % 3]!;
    // One signal each, so the history grows past the threshold while the queue waits.
    for (const [i, userId] of users.entries()) {
      await h.queue.enqueue([{ userId, priority: priorityOf(i) }]);
    }
    await h.queue.flush();
    await eventually('continued as new', async () => (await runIdOf()) !== runBefore);
    await eventually(
      'all twelve in the new run',
      async () => (await statusOf(h.queue)).queueLength === 12,
    );

    const carried = await statusOf(h.queue);
    const expected = [
      ...users.filter((_, i) => priorityOf(i) === 'high'),
      ...users.filter((_, i) => priorityOf(i) === 'normal'),
      ...users.filter((_, i) => priorityOf(i) === 'low'),
    ];
    assert.deepEqual(
      carried.upNext.map((r) => r.userId),
      expected.slice(0, carried.upNext.length),
    );
    assert.equal(carried.processed, 2);
    assert.equal(carried.pauseReason, 'operator');
    assert.equal(carried.operatorNote, 'holding for continue-as-new');
    assert.ok(carried.runs >= 2, `runs: ${carried.runs}`);

    await h.queue.resume();
    await eventually(
      'all fourteen processed',
      async () => (await statusOf(h.queue)).processed === 14,
    );
    for (const userId of [...first, ...users]) assert.equal(await h.narrativeCount(userId), 1);
  });
});

describe('narrative feeder schedule', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ memoryPollMs: 500 });
  });
  after(async () => {
    await h.client.schedule
      .getHandle(narrativeFeederScheduleId(h.taskQueue))
      .delete()
      .catch(() => undefined);
    await h.stop();
  });

  it('requests a narrative for every user active in the window, and none for the idle', async () => {
    const active = await h.users(5);
    const touched = await h.engine.store.createUser({ name: 'queried only' });
    await h.engine.store.touchUser(touched.id);
    const idle = await h.engine.store.createUser({ name: 'never active' });

    await ensureNarrativeFeederSchedule(h.client, {
      taskQueue: h.taskQueue,
      everySeconds: 3600,
      pageSize: 2,
    });
    const schedule = h.client.schedule.getHandle(narrativeFeederScheduleId(h.taskQueue));
    const described = await schedule.describe();
    assert.equal(described.policies.overlap, 'SKIP');
    await schedule.trigger();

    await eventually('the feed processed', async () => (await h.queue.status())?.processed === 6);
    for (const userId of [...active, touched.id]) {
      assert.equal(await h.narrativeCount(userId), 1, `narrative for ${userId}`);
    }
    assert.equal(await h.narrativeCount(idle.id), 0);

    // A second feed finds every narrative current: nothing new is written.
    await schedule.trigger();
    await eventually(
      'the second feed processed',
      async () => (await h.queue.status())?.processed === 12,
    );
    const status = await statusOf(h.queue);
    assert.equal(status.generated, 6);
    assert.equal(status.skipped, 6);
  });
});

describe('narrative scheduler when its worker process is killed mid-batch', () => {
  let engine: TestEngine;
  let connection: Connection;
  let client: Client;
  let db: pg.Client;
  const taskQueue = `test-narratives-crash-${randomUUID()}`;

  before(async () => {
    engine = await createTestEngine('postgres');
    connection = await Connection.connect({ address });
    client = new Client({ connection });
    db = new pg.Client({ connectionString: requireTestEnv('TEST_PGVECTOR_URL') });
    await db.connect();
  });
  after(async () => {
    await client.workflow
      .getHandle(`narrative-scheduler-${taskQueue}`)
      .terminate('test over')
      .catch(() => undefined);
    await db.end();
    await connection.close();
    await engine.close();
  });

  it('finishes every narrative after a restart, none lost and none written twice', async () => {
    const users: string[] = [];
    for (let i = 0; i < 8; i++) {
      const user = await engine.store.createUser({ name: `crash user ${i}` });
      await engine.store.insertMemory(user.id, { content: `I am crash user ${i}; I build boats.` });
      users.push(user.id);
    }
    const queue = createTemporalNarrativeQueue(client, taskQueue, {
      repeatWindowMs: 0,
      // A dead worker's generations are noticed within seconds.
      scheduler: { memoryPollMs: 1000, generation: { heartbeatSeconds: 3, retryInitialMs: 200 } },
    });
    const { child } = await spawnScriptUntilReady(
      'narrative worker',
      'test/support/narrative-worker-process.ts',
      { NARRATIVE_TASK_QUEUE: taskQueue, NARRATE_DELAY_MS: '300', KILL_AFTER_SAVES: '3' },
      /narrative worker ready/,
    );
    const killed = exitOf(child);
    await queue.enqueue(users.map((userId) => ({ userId, priority: 'normal' })));
    await killed;
    assert.equal(child.signalCode, 'SIGKILL', 'the worker died right after its third save');
    const { rows: savedBefore } = await db.query(
      'SELECT count(*)::int AS n FROM narratives WHERE user_id = ANY($1::uuid[])',
      [users],
    );
    assert.ok(
      savedBefore[0].n >= 3 && savedBefore[0].n < 8,
      `mid-batch: ${savedBefore[0].n} saved`,
    );

    const worker = await startTestWorker(engine, taskQueue, {
      // This test is about the crash, not memory: the test process itself is large.
      memoryUsage: () => ({ usedMb: 0, budgetMb: 2048 }),
    });
    try {
      let last: unknown;
      await eventually('all eight processed after the restart', async () => {
        const status = await queue.status();
        last = status;
        return status?.processed === 8 && status.inFlight.length === 0;
      }).catch((error: Error) => {
        throw new Error(`${error.message}; last status ${JSON.stringify(last)}`);
      });
      const status = await statusOf(queue);
      assert.equal(status.failed, 0);
      // The generation killed between its save and its completion ran again and found it done.
      assert.ok(status.skipped >= 1, `skipped: ${status.skipped}`);
      const { rows } = await db.query(
        `SELECT u.id, u.data_version, count(n.version)::int AS versions,
                min(n.data_version) AS built_from
         FROM users u LEFT JOIN narratives n ON n.user_id = u.id
         WHERE u.id = ANY($1::uuid[]) GROUP BY u.id, u.data_version`,
        [users],
      );
      assert.equal(rows.length, 8);
      for (const row of rows) {
        assert.equal(row.versions, 1, `user ${row.id} has ${row.versions} narratives`);
        assert.equal(Number(row.built_from), Number(row.data_version));
      }
    } finally {
      await worker.stop();
      await queue.close();
    }
  });
});
