import { setTimeout as sleep } from 'node:timers/promises';
import { localNarrative, type Narrator } from '../../core/narrative/narrator.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createLogger } from '../../infra/logger.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import { createTestEngine } from './test-engine.ts';
import { requireTestEnv } from './test-env.ts';
import { startTestWorker } from './test-worker.ts';

// A narratives worker in a process of its own, for tests that kill it. It writes
// narratives slowly (NARRATE_DELAY_MS) and, with KILL_AFTER_SAVES=n, kills itself
// with SIGKILL right after its n-th saved narrative: after the commit, before
// Temporal hears the activity finished. Prints "narrative worker ready" once polling.

async function main() {
  const taskQueue = requireTestEnv('NARRATIVE_TASK_QUEUE');
  const delayMs = Number(process.env.NARRATE_DELAY_MS ?? '0');
  const killAfter = Number(process.env.KILL_AFTER_SAVES ?? '0');
  const logger = createLogger('silent');
  installTemporalRuntime(logger);
  const engine = await createTestEngine('postgres');

  let saves = 0;
  const store: RelationalStore = {
    ...engine.store,
    async saveNarrative(userId, narrative) {
      const saved = await engine.store.saveNarrative(userId, narrative);
      if (++saves === killAfter) process.kill(process.pid, 'SIGKILL');
      return saved;
    },
  };
  const narrator: Narrator = {
    async write(memories) {
      await sleep(delayMs);
      return { content: localNarrative(memories), model: 'local', modelCalls: 0 };
    },
  };

  const worker = await startTestWorker(engine, taskQueue, {
    store,
    narrator,
    memoryUsage: () => ({ usedMb: 0, budgetMb: 2048 }),
  });
  process.stdout.write('narrative worker ready\n');
  process.once('SIGTERM', () => {
    void worker
      .stop()
      .then(() => engine.close())
      .then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
