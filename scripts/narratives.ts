import type { NarrativePriority } from '../core/ports/narrative-queue.ts';
import { loadConfig } from '../infra/config.ts';
import { createTemporalClient } from '../infra/temporal/connection.ts';
import { createTemporalNarrativeQueue } from '../infra/temporal/temporal-narrative-queue.ts';

// `npm run narratives -- <command>`: steers the narrative scheduler of a running stack.
const USAGE = `usage: narratives <command>
  enqueue <userId>... [high|normal|low]   request narratives (default high)
  pause [reason]                          stop starting generations
  resume                                  lift an operator's pause
  status                                  print the scheduler's state`;

const PRIORITIES: readonly string[] = ['high', 'normal', 'low'];

// Queries and updates wait for a worker to answer; an operator wants a clear answer instead.
const ANSWER_TIMEOUT_MS = 20_000;

function answeredWithin<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `no narratives worker answered within ${ANSWER_TIMEOUT_MS / 1000} s ` +
              '(is a worker polling the narratives task queue?)',
          ),
        ),
      ANSWER_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || !['enqueue', 'pause', 'resume', 'status'].includes(command)) {
    console.error(USAGE);
    process.exit(2);
  }
  const config = loadConfig();
  const { client, connection } = await createTemporalClient(config);
  const queue = createTemporalNarrativeQueue(client, config.TASK_QUEUE_NARRATIVES, {
    coalesceMs: 0,
  });
  try {
    if (command === 'enqueue') {
      const last = rest[rest.length - 1] ?? '';
      const priority = (PRIORITIES.includes(last) ? last : 'high') as NarrativePriority;
      const userIds = PRIORITIES.includes(last) ? rest.slice(0, -1) : rest;
      if (userIds.length === 0) {
        console.error(USAGE);
        process.exit(2);
      }
      await queue.enqueue(userIds.map((userId) => ({ userId, priority })));
      console.log(
        `requested ${userIds.length} narrative(s) at ${priority} priority on ${queue.workflowId}`,
      );
    } else if (command === 'pause') {
      const status = await answeredWithin(
        queue.pause(rest.join(' ') || 'paused from the command line'),
      );
      console.log(JSON.stringify(status, null, 2));
    } else if (command === 'resume') {
      console.log(JSON.stringify(await answeredWithin(queue.resume()), null, 2));
    } else {
      const status = await answeredWithin(queue.status());
      console.log(status ? JSON.stringify(status, null, 2) : `${queue.workflowId} is not running`);
    }
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`narratives: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
