// Seeds the filter benchmark's user straight into the product's database, the way
// the indexing workflow would (the same indexer steps, without Temporal): saving
// 10,000 memories through the API would measure indexing, which is not the point.
import { createEngineAdapters } from '../../app/engine-adapters.ts';
import { ensureLocalModel } from '../../app/model-adapters.ts';
import { createIndexer, type IndexTarget } from '../../core/indexing/indexer.ts';
import { loadConfig } from '../../infra/config.ts';
import { createLogger } from '../../infra/logger.ts';
import { checkInterrupted } from '../bench-kit.ts';
import type { SeedMemory } from './corpus.ts';

const SAVE_BATCH = 100;
const INDEX_BATCH = 250;

/**
 * Creates one user in the database at `databaseUrl` with `memories` saved,
 * the archived ones archived, and every one indexed (vectors with their
 * filter payload, graph, marked indexed). Returns the user's id.
 */
export async function seedUser(
  env: Record<string, string>,
  memories: readonly SeedMemory[],
  log: (message: string) => void,
): Promise<string> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  await ensureLocalModel(config, log);
  const adapters = await createEngineAdapters(config, createLogger('silent'));
  try {
    const { store } = adapters;
    const user = await store.createUser({ name: 'filter-bench' });
    const targets: IndexTarget[] = [];
    for (let i = 0; i < memories.length; i += SAVE_BATCH) {
      checkInterrupted();
      const batch = memories.slice(i, i + SAVE_BATCH);
      const saved = await store.insertMemories(
        user.id,
        batch.map((m) => m.memory),
      );
      for (const [j, { memory }] of saved.entries()) {
        if (batch[j]!.archived) await store.updateMemory(user.id, memory.id, { state: 'archived' });
        targets.push({ userId: user.id, memoryId: memory.id });
      }
    }
    log(`saved ${targets.length} memories; indexing them`);
    const indexer = createIndexer(adapters);
    const started = Date.now();
    for (let i = 0; i < targets.length; i += INDEX_BATCH) {
      checkInterrupted();
      const batch = targets.slice(i, i + INDEX_BATCH);
      const plans = await indexer.indexVectors(batch);
      await indexer.indexGraphs(batch, { concurrency: 4 });
      await indexer.markIndexedMany(
        batch.flatMap((target, j) => {
          const plan = plans[j]!;
          return plan.kind === 'index' ? [{ target, revision: plan.revision }] : [];
        }),
      );
      if ((i / INDEX_BATCH) % 8 === 7) {
        log(`indexed ${i + batch.length}/${targets.length} (${((Date.now() - started) / 1000).toFixed(0)} s)`); // prettier-ignore
      }
    }
    return user.id;
  } finally {
    await adapters.close();
  }
}
