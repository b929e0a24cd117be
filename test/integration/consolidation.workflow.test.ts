import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConsolidator, emptyCounts } from '../../core/consolidation/consolidator.ts';
import { AppError } from '../../core/errors.ts';
import type { Memory, RelationalStore } from '../../core/ports/relational-store.ts';
import {
  consolidationScheduleId,
  ensureConsolidationSchedule,
  triggerConsolidation,
} from '../../infra/temporal/consolidation-schedule.ts';
import { consolidationWorkflow, type ConsolidationResult } from '../../workflows/index.ts';
import { ADMIN_KEY, call, eventually, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

const LISBON = 'I moved to Lisbon in 2021 and love the tram rides';

/**
 * Nightly consolidation end to end: memories saved through the API and
 * indexed by the real pipeline, the workflow run by a real worker on the
 * run's Temporal dev server. The hashing embedder makes "the same words,
 * other punctuation" exact duplicates (cosine 1), so what merges is certain.
 */
describe('nightly consolidation on the real dev server and worker', () => {
  let engine: TestEngine;
  let api: TestApi;

  before(async () => {
    engine = await createTestEngine('pglite', { EMBEDDER: 'hashing' });
    api = await startTestApi(engine);
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  const newUser = async () =>
    (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body as {
      user_id: string;
      api_key: string;
    };
  const save = async (key: string, memories: object[]) => {
    const res = await call(api.url, 'POST', '/v1/memories', { key, body: { memories } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.ids as string[];
  };
  const allIndexed = (userId: string) =>
    eventually(`every memory of ${userId} indexed`, async () => {
      const { items } = await engine.store.listMemories(userId, { limit: 200 });
      return items.every((m) => m.indexState === 'indexed');
    });
  const memoryOf = async (userId: string, id: string): Promise<Memory> => {
    const memory = await engine.store.getMemory(userId, id);
    assert.ok(memory, `memory ${id} exists`);
    return memory;
  };
  /** What a user would notice: every memory's state, tags and metadata, and the data version. */
  const snapshot = async (userId: string) => ({
    version: (await engine.store.getUser(userId))!.dataVersion,
    memories: (await engine.store.listMemories(userId, { limit: 200 })).items.map((m) => ({
      id: m.id,
      state: m.state,
      revision: m.revision,
      tags: m.tags,
      metadata: m.metadata,
    })),
  });
  const runConsolidation = (args: Parameters<typeof consolidationWorkflow>[0]) =>
    api.client.workflow.execute(consolidationWorkflow, {
      taskQueue: api.taskQueue,
      workflowId: `consolidation-test-${randomUUID()}`,
      args: [args],
    });

  it('consolidation merges seeded duplicates, retires an outdated memory, and a second run changes nothing', async () => {
    const user = await newUser();
    const bystander = await newUser();
    // Saved one by one: "oldest" is judged to the millisecond (ties go by id), so the
    // duplicates get distinct times and the first one saved is sure to survive.
    const duplicates = [
      { content: LISBON, tags: ['home'] },
      { content: 'I moved to Lisbon in 2021, and love the tram rides!', tags: ['travel'] },
      { content: 'i moved to lisbon in 2021 and love the tram rides.', tags: ['home', 'lisbon'] },
    ];
    const saved: string[] = [];
    for (const memory of duplicates) {
      saved.push(...(await save(user.api_key, [memory])));
      await sleep(5);
    }
    const [original, dup1, dup2] = saved as [string, string, string];
    const [porto, peanuts, expired, notYet, oldCoffee, newCoffee, oldPhone] = (await save(
      user.api_key,
      [
        { content: 'I moved to Porto in 2019 and love the river walks' },
        { content: 'Allergic to peanuts and shellfish' },
        { content: 'Dentist appointment on Friday at 10', metadata: { expires_at: '2020-01-01' } },
        { content: 'Conference ticket valid through 2099', metadata: { expires_at: '2099-01-01' } },
        { content: 'Favourite coffee is a flat white', tags: ['key:coffee'] },
        { content: 'Favourite coffee is now a cortado', tags: ['key:coffee'] },
        { content: 'Phone number ends in 1234' },
      ],
    )) as [string, string, string, string, string, string, string];
    const [newPhone] = await save(user.api_key, [
      { content: 'New phone number ends in 9876', metadata: { supersedes: oldPhone } },
    ]);
    const [theirLisbon] = await save(bystander.api_key, [{ content: LISBON }]);
    await allIndexed(user.user_id);
    await allIndexed(bystander.user_id);

    // Orphans: a vector whose memory never existed, and an entity whose memory row went
    // without the graph hearing of it.
    const space = engine.spaces.serving()!;
    const orphanVector = randomUUID();
    const [ghostVector] = await space.embedder.embed(['a ghost of a memory']);
    await space.index.upsert([
      { id: orphanVector, userId: user.user_id, vector: ghostVector!, tags: [] },
    ]);
    const ghost = await engine.store.insertMemory(user.user_id, { content: 'Visited Zanzibar' });
    await engine.graph.upsertMemoryGraph(user.user_id, ghost.memory.id, {
      entities: [{ name: 'Zanzibar', type: 'place' }],
      relations: [],
    });
    await engine.store.deleteMemory(user.user_id, ghost.memory.id);
    const bystanderBefore = await snapshot(bystander.user_id);

    // One user per page and per run: the walk continues as new between users.
    const first = await runConsolidation({ threshold: 0.95, usersPerPage: 1, usersPerRun: 1 });
    assert.deepEqual(
      { ...first, now: undefined },
      {
        now: undefined,
        users: 2,
        failedUsers: 0,
        failures: [],
        merged: 2,
        expired: 1,
        purged: 0,
        superseded: 2,
        skipped: 0,
        orphanVectors: 1,
        orphanEntities: 1,
        bytesFreed: space.index.dimension * 4,
      },
    );

    const survivor = await memoryOf(user.user_id, original);
    assert.equal(survivor.state, 'active', 'the oldest duplicate survives');
    assert.deepEqual(survivor.tags, ['home', 'travel', 'lisbon']);
    assert.deepEqual([...(survivor.metadata.merged_from as string[])].sort(), [dup1, dup2].sort());
    for (const id of [dup1, dup2]) {
      const dup = await memoryOf(user.user_id, id);
      assert.equal(dup.state, 'archived');
      assert.equal(dup.metadata.merged_into, original);
      assert.equal(dup.metadata.retired_reason, 'duplicate');
    }
    const dentist = await memoryOf(user.user_id, expired);
    assert.equal(dentist.state, 'archived');
    assert.equal(dentist.metadata.retired_reason, 'expired');
    assert.equal(dentist.metadata.retired_at, first.now);
    for (const [old, replacement] of [
      [oldCoffee, newCoffee],
      [oldPhone, newPhone!],
    ] as const) {
      const outdated = await memoryOf(user.user_id, old);
      assert.equal(outdated.state, 'archived');
      assert.equal(outdated.metadata.retired_reason, 'superseded');
      assert.equal(outdated.metadata.superseded_by, replacement);
    }
    for (const id of [porto, peanuts, notYet, newCoffee, newPhone!]) {
      assert.equal((await memoryOf(user.user_id, id)).state, 'active', `memory ${id} kept`);
    }
    assert.equal((await space.index.getVectors(user.user_id, [orphanVector])).size, 0);
    assert.equal(
      await space.index.count(user.user_id),
      11,
      'every remaining memory keeps its vector',
    );
    assert.deepEqual(await snapshot(bystander.user_id), bystanderBefore, 'nothing to do for them');
    assert.equal((await memoryOf(bystander.user_id, theirLisbon!)).state, 'active');

    const found = await call(api.url, 'POST', '/v1/search', {
      key: user.api_key,
      body: { query: 'moved to Lisbon tram rides', limit: 10 },
    });
    const ids = (found.body.results as { id: string }[]).map((r) => r.id);
    assert.ok(ids.includes(original));
    assert.ok(!ids.includes(dup1) && !ids.includes(dup2), 'merged duplicates leave search');

    // The survivor's new tags are indexed by the pipeline; then nothing is left to do.
    await allIndexed(user.user_id);
    const before = await snapshot(user.user_id);
    const second = await runConsolidation({ threshold: 0.95 });
    assert.deepEqual(
      { ...second, now: undefined },
      { ...first, ...emptyCounts(), now: undefined, users: 2 },
    );
    assert.deepEqual(await snapshot(user.user_id), before, 'a second run changes nothing');
    assert.deepEqual(await snapshot(bystander.user_id), bystanderBefore);
  });

  it('resumes a user from the last heartbeat: finished pages are not read again, counts are kept', async () => {
    const user = await newUser();
    const [first] = await save(user.api_key, [{ content: 'Plays the cello on Sundays' }]);
    await sleep(5);
    const [copy] = await save(user.api_key, [{ content: 'Plays the cello, on Sundays!' }]);
    await allIndexed(user.user_id);
    const consolidator = createConsolidator(engine);
    const seen: string[] = [];
    const resumed = await consolidator.consolidateUser(
      { userId: user.user_id, threshold: 0.95, now: new Date() },
      {
        // As a retried attempt: the memory pages were done, with one merge counted.
        resume: { phase: 'vectors', index: 0, counts: { ...emptyCounts(), merged: 1 } },
        onProgress: (p) => seen.push(p.phase),
      },
    );
    assert.equal(resumed.merged, 1, 'the earlier attempt’s count is kept');
    assert.ok(!seen.includes('memories'), 'no memory page read again');
    assert.equal((await memoryOf(user.user_id, copy!)).state, 'active');

    const fresh = await consolidator.consolidateUser(
      { userId: user.user_id, threshold: 0.95, now: new Date(), pageSize: 1 },
      {},
    );
    assert.equal(fresh.merged, 1);
    assert.equal((await memoryOf(user.user_id, first!)).state, 'active');
    assert.equal((await memoryOf(user.user_id, copy!)).state, 'archived');
  });

  it('schedules consolidation nightly in the configured time zone, skipping overlaps, and runs it on demand', async () => {
    const taskQueue = api.taskQueue;
    await ensureConsolidationSchedule(api.client, { taskQueue, timezone: 'UTC', hour: 3 });
    // Again, as every worker does at start-up: brought up to date, not duplicated.
    await ensureConsolidationSchedule(api.client, {
      taskQueue,
      timezone: 'Europe/Lisbon',
      hour: 2,
      minute: 0,
      catchupWindow: '4 hours',
      threshold: 0.95,
    });
    const schedule = api.client.schedule.getHandle(consolidationScheduleId(taskQueue));
    try {
      const described = await schedule.describe();
      assert.equal(described.policies.overlap, 'SKIP');
      assert.equal(described.policies.catchupWindow, 4 * 3600 * 1000);
      assert.equal(described.spec.timezone, 'Europe/Lisbon');
      const next = described.info.nextActionTimes[0]!;
      const lisbonTime = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Lisbon',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(next);
      assert.equal(lisbonTime, '02:00');

      await triggerConsolidation(api.client, taskQueue);
      let workflowId: string | undefined;
      await eventually('the triggered run started', async () => {
        workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        return workflowId !== undefined;
      });
      const result = (await api.client.workflow
        .getHandle(workflowId!)
        .result()) as ConsolidationResult;
      assert.equal(result.failedUsers, 0);
      assert.equal(result.merged + result.expired + result.superseded, 0, 'nothing left to do');
    } finally {
      await schedule.delete();
    }
  });
});

describe('nightly consolidation when an attempt fails half-way through a user', () => {
  let engine: TestEngine;
  let api: TestApi;
  const pagesRead: string[] = [];
  let applies = 0;

  before(async () => {
    engine = await createTestEngine('pglite', { EMBEDDER: 'hashing' });
    // The store as the worker sees it: the second batch of changes fails once, as a
    // database that went away mid-run would, after the first page was heartbeated.
    const store: RelationalStore = {
      ...engine.store,
      pageActiveMemories: (userId, options) => {
        pagesRead.push(options.afterId ?? 'start');
        return engine.store.pageActiveMemories(userId, options);
      },
      applyConsolidation: (userId, groups) => {
        applies++;
        if (applies === 2) {
          return Promise.reject(new AppError('dependency_unavailable', 'database went away'));
        }
        return engine.store.applyConsolidation(userId, groups);
      },
    };
    api = await startTestApi(engine, { deps: { store } });
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('retries from the last heartbeat: no finished page is read again and no count is lost', async () => {
    const user = (await call(api.url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} }))
      .body as { user_id: string; api_key: string };
    const topics = ['the cello on Sundays', 'chess at the club', 'tennis on Fridays'];
    const saved = await call(api.url, 'POST', '/v1/memories', {
      key: user.api_key,
      body: {
        memories: topics.flatMap((t) => [{ content: `Plays ${t}` }, { content: `Plays ${t}!` }]),
      },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await eventually('every memory indexed', async () => {
      const { items } = await engine.store.listMemories(user.user_id, { limit: 50 });
      return items.every((m) => m.indexState === 'indexed');
    });

    const result = await api.client.workflow.execute(consolidationWorkflow, {
      taskQueue: api.taskQueue,
      workflowId: `consolidation-retry-${randomUUID()}`,
      args: [{ threshold: 0.95, memoryPageSize: 1 }],
    });
    assert.equal(applies >= 3, true, 'the failed batch was applied on the retry');
    assert.equal(result.merged, 3, 'merges of the failed attempt are counted once');
    assert.equal(result.failedUsers, 0);
    assert.equal(pagesRead.filter((p) => p === 'start').length, 1, 'the retry did not start over');
    const { items } = await engine.store.listMemories(user.user_id, { limit: 50 });
    assert.equal(items.filter((m) => m.state === 'active').length, 3);
  });
});
