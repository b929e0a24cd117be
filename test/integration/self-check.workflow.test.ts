import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../../infra/logger.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import { selfCheckWorkflow } from '../../workflows/index.ts';
import type { RunningWorker } from '../../workers/worker.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';
import { startTestWorker } from '../support/test-worker.ts';

const address = requireTestEnv('TEST_TEMPORAL_ADDRESS');
const logger = createLogger('silent');
installTemporalRuntime(logger);

for (const name of ['pglite', 'postgres'] as const) {
  describe(`self-check workflow on the real dev server and worker, store ${name}`, () => {
    let engine: TestEngine;
    let worker: RunningWorker;
    let connection: Connection;
    let client: Client;
    const taskQueue = `test-system-${randomUUID()}`;

    before(async () => {
      engine = await createTestEngine(name);
      worker = await startTestWorker(engine, taskQueue);
      connection = await Connection.connect({ address });
      client = new Client({ connection });
    });

    after(async () => {
      await worker.stop();
      await connection.close();
      await engine.close();
    });

    it('runs its activity on the worker, which writes the check to the store', async () => {
      const workflowId = `self-check-${randomUUID()}`;
      const result = await client.workflow.execute(selfCheckWorkflow, {
        taskQueue,
        workflowId,
        args: [{ requestedBy: 'integration test' }],
      });
      assert.equal(result.workflowId, workflowId);
      const row = await engine.store.getSelfCheck(result.selfCheckId);
      assert.equal(row?.workflowId, workflowId);
      assert.equal(row?.note, 'requested by integration test');
      const described = await client.workflow.getHandle(workflowId).describe();
      assert.equal(described.status.name, 'COMPLETED');
    });
  });
}
