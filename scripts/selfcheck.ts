import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { selfCheckWorkflow } from '../workflows/index.ts';
import { loadConfig } from '../infra/config.ts';
import { createTemporalClient } from '../infra/temporal/connection.ts';
import { startTagged } from '../infra/temporal/search-attributes.ts';

// `npm run selfcheck`: runs the self-check workflow on a running stack and prints
// what it recorded, proving Temporal, the worker and the database work together.
async function main() {
  const config = loadConfig();
  const { client, connection } = await createTemporalClient(config);
  try {
    const workflowId = `self-check-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    console.log(`starting ${workflowId} on task queue ${config.TASK_QUEUE_SYSTEM}…`);
    const result = await startTagged(client, 'selfcheck', undefined, (tags) =>
      client.workflow.execute(selfCheckWorkflow, {
        taskQueue: config.TASK_QUEUE_SYSTEM,
        workflowId,
        args: [{ requestedBy: `${os.userInfo().username}@${os.hostname()}` }],
        workflowExecutionTimeout: '1 minute',
        ...tags,
      }),
    );
    console.log(`self-check recorded: ${JSON.stringify(result)}`);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`self-check failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
