import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runMemoryEngine as memoryEngine, type CliRun } from '../support/memory-engine-cli.ts';
import { ADMIN_KEY, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';

/** The JSON a `--json` run printed, after checking it succeeded. */
function json(run: CliRun): any {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe('the memory-engine command line against the real API', () => {
  let engine: TestEngine;
  let api: TestApi;
  let env: Record<string, string>;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine);
    const user = await createUser(api.url);
    env = { MEMORY_ENGINE_URL: api.url, MEMORY_ENGINE_API_KEY: user.api_key };
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('remembers, searches, answers context, lists and forgets, with --json', async () => {
    const saved = json(
      await memoryEngine(
        [
          'remember',
          'My',
          'brother',
          'Tom',
          'lives',
          'in',
          'Oslo',
          '--tag',
          'family',
          '--wait',
          '--json',
        ],
        env,
      ),
    );
    assert.equal(saved.created, true);
    assert.equal(saved.index_state, 'indexed');
    const fromStdin = json(
      await memoryEngine(
        ['remember', '-', '--wait', '--json'],
        env,
        'I play the trumpet on Sundays\n',
      ),
    );
    assert.equal(fromStdin.index_state, 'indexed');

    const found = json(await memoryEngine(['search', 'Where does Tom live?', '--json'], env));
    assert.equal(found.results[0].id, saved.id);
    const context = json(
      await memoryEngine(['context', 'what do you know about Tom?', '--json'], env),
    );
    assert.ok(
      context.memories.some((m: { id: string }) => m.id === saved.id),
      context.context,
    );
    const listed = json(await memoryEngine(['list', '--tag', 'family', '--json'], env));
    assert.deepEqual(
      listed.items.map((m: { id: string }) => m.id),
      [saved.id],
    );

    const forgotten = json(await memoryEngine(['forget', saved.id, fromStdin.id, '--json'], env));
    assert.deepEqual(forgotten, { deleted: [saved.id, fromStdin.id] });
    assert.deepEqual(json(await memoryEngine(['list', '--json'], env)).items, []);
  });

  it('prints readable tables without --json', async () => {
    await memoryEngine(['remember', 'I keep bees on the roof'], env);
    const run = await memoryEngine(['list'], env);
    assert.equal(run.code, 0, run.stderr);
    const [heading, row] = run.stdout.split('\n');
    assert.match(heading!, /^id\s+created\s+state\s+tags\s+content$/);
    assert.match(row!, /I keep bees on the roof/);
  });

  it('creates a user with the admin key and reports API errors as JSON with the request id', async () => {
    const created = json(
      await memoryEngine(['users', 'create', '--name', 'Cli', '--json'], {
        ...env,
        MEMORY_ENGINE_ADMIN_KEY: ADMIN_KEY,
      }),
    );
    assert.match(created.user_id, /^[0-9a-f-]{36}$/);
    assert.ok(created.api_key);

    const failed = await memoryEngine(['forget', randomUUID(), '--json'], env);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, '');
    const { error } = JSON.parse(failed.stderr);
    assert.equal(error.code, 'not_found');
    assert.equal(error.status, 404);
    assert.match(error.request_id, /^[0-9a-f-]{36}$/);
  });

  it('refuses bad usage with exit code 2 and names what is missing', async () => {
    const noKey = await memoryEngine(['users', 'create'], { ...env, MEMORY_ENGINE_ADMIN_KEY: '' });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /no admin key: pass --admin-key or set MEMORY_ENGINE_ADMIN_KEY/);
    const unknown = await memoryEngine(['frobnicate'], env);
    assert.equal(unknown.code, 2);
  });

  it('steers the stack through Temporal: selfcheck runs on a worker; absent schedulers are named', async () => {
    const temporal = {
      ...env,
      TEMPORAL_ADDRESS: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
      // The test API's worker runs every workflow and activity on its own queue.
      TASK_QUEUE_SYSTEM: api.taskQueue,
      TASK_QUEUE_NARRATIVES: `test-cli-narratives-${randomUUID()}`,
      TASK_QUEUE_CONSOLIDATION: `test-cli-consolidation-${randomUUID()}`,
    };
    const check = json(await memoryEngine(['selfcheck', '--json'], temporal));
    assert.match(check.workflowId, /^self-check-/);
    assert.ok(check.selfCheckId);
    assert.equal(json(await memoryEngine(['narratives', 'status', '--json'], temporal)), null);
    const noSchedule = await memoryEngine(['consolidate', 'status'], temporal);
    assert.equal(noSchedule.code, 1);
    assert.match(noSchedule.stderr, /there is no schedule consolidation-test-cli-consolidation-/);
  });
});
