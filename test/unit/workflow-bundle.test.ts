import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { buildWorkflowBundle } from '../../workers/workflow-bundle.ts';

const logger = pino({ level: 'silent' });

describe('the workflow bundle is built in a child process', () => {
  it("returns the workflows' code without loading webpack into this process", async () => {
    const { code } = await buildWorkflowBundle(logger);
    assert.match(code, /indexShardWorkflow/);
    assert.match(code, /narrativeSchedulerWorkflow/);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    assert.ok(loaded.length > 0, 'this process has CommonJS modules loaded (pino)');
    assert.equal(loaded.filter((file) => /[\\/]node_modules[\\/]webpack[\\/]/.test(file)).length, 0); // prettier-ignore
  });

  it('fails with the bundler’s own words when the code does not build', async () => {
    await assert.rejects(
      buildWorkflowBundle(logger, '/nonexistent/workflows.ts'),
      (error: Error) => {
        assert.match(error.message, /^bundling the workflow code failed/);
        assert.match(error.message, /nonexistent/);
        return true;
      },
    );
  });
});
