import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createCallRunner } from '../../infra/gemini/gemini-client.ts';

it('runs many model calls at once without a listener-leak warning, and close() aborts them', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    const runner = createCallRunner('gemini-test');
    const ok = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        runner.run('generate', 5_000, async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return i;
        }),
      ),
    );
    assert.deepEqual(
      ok,
      Array.from({ length: 40 }, (_, i) => i),
    );

    const pending = Array.from({ length: 20 }, () =>
      runner.run(
        'generate',
        5_000,
        (signal) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ),
    );
    runner.close();
    for (const call of pending) await assert.rejects(call, { code: 'dependency_unavailable' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((name) => name === 'MaxListenersExceededWarning'),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});
