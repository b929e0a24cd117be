import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { selfCheckWorkflow } from '../../workflows/index.ts';
import type { Command } from '../command.ts';
import { fields } from '../output.ts';
import { unlessAborted, withTemporal } from '../temporal.ts';

// Runs the self-check workflow on a running stack (as `npm run selfcheck`):
// proof that Temporal, the worker and the database work together.

const selfcheck: Command = {
  name: 'selfcheck',
  synopsis: '',
  summary: 'prove that Temporal, the worker and the database work together',
  async run(ctx) {
    const { startTagged } = await import('../../infra/temporal/search-attributes.ts');
    const result = await withTemporal(({ client, config }) => {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const workflowId = `self-check-${stamp}-${randomUUID().slice(0, 8)}`;
      ctx.out.progress(`running ${workflowId} on task queue ${config.TASK_QUEUE_SYSTEM}…`);
      const run = startTagged(client, 'selfcheck', undefined, (tags) =>
        // By name: the CLI does not load workflow code.
        client.workflow.execute<typeof selfCheckWorkflow>('selfCheckWorkflow', {
          taskQueue: config.TASK_QUEUE_SYSTEM,
          workflowId,
          args: [{ requestedBy: `${os.userInfo().username}@${os.hostname()}` }],
          workflowExecutionTimeout: '1 minute',
          ...tags,
        }),
      );
      return unlessAborted(run, ctx.signal);
    });
    ctx.out.result(result, (r) =>
      fields([
        ['self-check', `passed: recorded ${r.selfCheckId}`],
        ['workflow', r.workflowId],
        ['recorded at', r.recordedAt],
      ]),
    );
  },
};

export const selfCheckCommands: Command[] = [selfcheck];
