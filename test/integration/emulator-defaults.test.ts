import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnEmulatorChild, type EmulatorChild } from '../../bench/kit/emulator-child.ts';
import { projectRoot } from '../../infra/project-root.ts';
import { call, createUser, saveIndexed, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';

/**
 * The product pointed at `npm run emulator` as it starts with no options
 * (`scripts/emulator.ts` in a process of its own, as the benchmarks run it):
 * its default answers are the plans, entities and portraits the product asks
 * for, so the product plans with "the model" instead of its heuristic.
 */
describe('a product pointed at the Gemini emulator with its defaults', () => {
  let dir: TempDir;
  let emulator: EmulatorChild;
  let engine: TestEngine;
  let api: TestApi;
  let user: { api_key: string };
  const ask = async (message: string) =>
    (await call(api.url, 'POST', '/v1/context', { key: user.api_key, body: { message } })).body;

  before(async () => {
    dir = await createTempDir('emulator-defaults-');
    emulator = await spawnEmulatorChild({ projectRoot, logFile: path.join(dir.path, 'emulator.log') }); // prettier-ignore
    engine = await createTestEngine('pglite', {
      GEMINI_BASE_URL: emulator.url,
      GEMINI_EMBEDDING_DIMENSION: '64',
    });
    api = await startTestApi(engine);
    user = await createUser(api.url);
    await saveIndexed(api.url, user.api_key, 'I am training for the Berlin marathon in September');
    await saveIndexed(
      api.url,
      user.api_key,
      'My left knee hurts after long runs with Coach Rivera',
    );
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
    await emulator?.close();
    await dir?.remove();
  });

  it('plans a complex message with the model, then serves the plan from the cache on a repeat', async () => {
    await emulator.resetStats();
    const message = 'How should I adapt my marathon training given how my knee has been lately?';
    const first = await ask(message);
    assert.equal(first.plan.source, 'model', JSON.stringify(first.plan));
    assert.equal(first.plan.fallback, undefined, 'a model plan names no fallback');
    assert.equal(first.model_calls, 1);
    assert.equal(first.cache.plan, 'miss');
    assert.ok(first.plan.queries.length >= 1 && first.plan.queries.length <= 3);
    assert.ok(first.memories.some((m: { content: string }) => /knee/.test(m.content)));

    const again = await ask(message);
    assert.equal(again.plan.source, 'cache');
    assert.equal(again.model_calls, 0);
    assert.equal((await emulator.stats()).generateContent.calls, 1);
  });

  it('plans heuristically once told over IPC to echo every prompt, and with the model again after', async () => {
    await emulator.configure({ responder: 'echo' });
    try {
      const res = await ask('Why do I keep skipping my long runs, and what should I change?');
      assert.equal(res.plan.source, 'heuristic');
      assert.equal(res.plan.fallback, 'off_schema', 'the response says why the model did not plan');
      assert.equal(res.model_calls, 1);
    } finally {
      await emulator.configure({ responder: null });
    }
    const res = await ask('What patterns do you see in how my running has changed this year?');
    assert.equal(res.plan.source, 'model');
  });

  it('keeps its failure injection: a 500 makes the product fall back, and is counted', async () => {
    await emulator.resetStats();
    await emulator.configure({ methods: { generateContent: { failures: { serverError: 1 } } } });
    try {
      const res = await ask('Could you help me plan my week around training, work and recovery?');
      assert.equal(res.plan.source, 'heuristic');
      assert.equal(res.plan.fallback, 'model_error');
    } finally {
      await emulator.configure({ methods: { generateContent: { failures: null } } });
    }
    assert.equal((await emulator.stats()).generateContent.serverErrors, 1);
  });
});

describe('the emulator as a child process', () => {
  it('exits by itself when the process that started it goes away (its IPC channel closes)', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/emulator.ts', '--port', '0'],
      { cwd: projectRoot, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))); // prettier-ignore
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('message', (m: { ready: { url: string } }) => resolve(m.ready));
      child.once('exit', () => reject(new Error('the emulator exited before it was ready')));
    });
    assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${ready.url}/healthz`)).status, 200);
    child.disconnect();
    assert.equal(await exited, 0);
  });
});
