import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { createLogger } from '../../infra/logger.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import { selfCheckWorkflow } from '../../workflows/index.ts';
import { startWorker, type RunningWorker } from '../../workers/worker.ts';
import { requireTestEnv } from '../support/test-env.ts';

const address = requireTestEnv('TEST_TEMPORAL_ADDRESS');
const databaseUrl = requireTestEnv('TEST_DATABASE_URL');
const logger = createLogger('silent');
installTemporalRuntime(logger);

const adapters: [string, () => Promise<RelationalStore>][] = [
  ['PGlite', async () => createSqlRelationalStore(await createPgliteDriver('memory://'))],
  [
    'PostgreSQL',
    async () =>
      createSqlRelationalStore(
        await createPgDriver({
          url: databaseUrl,
          poolSize: 4,
          statementTimeoutMs: 5000,
          connectTimeoutMs: 3000,
        }),
      ),
  ],
];

for (const [name, createStore] of adapters) {
  describe(`self-check workflow on the real dev server and worker, store ${name}`, () => {
    let store: RelationalStore;
    let workerConnection: NativeConnection;
    let worker: RunningWorker;
    let connection: Connection;
    let client: Client;
    const taskQueue = `test-system-${randomUUID()}`;

    before(async () => {
      store = await createStore();
      workerConnection = await NativeConnection.connect({ address });
      worker = await startWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue,
        deps: { store },
        logger,
      });
      connection = await Connection.connect({ address });
      client = new Client({ connection });
    });

    after(async () => {
      await worker.stop();
      await workerConnection.close();
      await connection.close();
      await store.close();
    });

    it('runs its activity on the worker, which writes the check to the store', async () => {
      const workflowId = `self-check-${randomUUID()}`;
      const result = await client.workflow.execute(selfCheckWorkflow, {
        taskQueue,
        workflowId,
        args: [{ requestedBy: 'integration test' }],
      });
      assert.equal(result.workflowId, workflowId);
      const row = await store.getSelfCheck(result.selfCheckId);
      assert.equal(row?.workflowId, workflowId);
      assert.equal(row?.note, 'requested by integration test');
      const described = await client.workflow.getHandle(workflowId).describe();
      assert.equal(described.status.name, 'COMPLETED');
    });
  });
}
