// The product as a benchmark starts it when the benchmark owns the whole stack: a
// fresh admin key, its own Temporal dev server, nothing pinned, and none of the
// optional services this machine's environment may name.
import { randomBytes } from 'node:crypto';
import { startProductChild, type ProductChild } from './product-child.ts';

/**
 * The product (`scripts/start.ts`) as a child over `run.dataDir`, logging to
 * `run.stackLog`, unpinned, on a Temporal dev server of its own, with a fresh
 * admin key and Qdrant, Neo4j and Redis unset (so the figures are those of the
 * default layout whatever the shell says); `env` adds or overrides settings.
 */
export async function startOwnStackProduct(
  run: { dataDir: string; stackLog: string },
  env: Record<string, string>,
  log: (message: string) => void,
): Promise<{ product: ProductChild; adminKey: string }> {
  const adminKey = randomBytes(24).toString('hex');
  const product = await startProductChild({
    dataDir: run.dataDir,
    temporalAddress: undefined,
    adminKey,
    logFile: run.stackLog,
    pin: false,
    env: { QDRANT_URL: '', NEO4J_URL: '', REDIS_URL: '', ...env },
  });
  log(`product pid ${product.pid} on ${product.url}`);
  return { product, adminKey };
}
