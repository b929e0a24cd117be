import path from 'node:path';
import type { LoadTestDeps } from '../activities/loadtest-activities.ts';
import type { Config } from '../infra/config.ts';

/**
 * What a worker's load-test activities need, from the configuration: the
 * target's admin key, where reports go (`<DATA_DIR>/loadtests`) and the limits
 * the capacity projection measures against. `vectorDimension` is the
 * embedder's, which the caller knows best.
 */
export function loadTestDeps(config: Config, vectorDimension: number): LoadTestDeps {
  return {
    adminApiKey: config.ADMIN_API_KEY,
    reportsDir: path.join(config.dataDir, 'loadtests'),
    assumptions: {
      memoryBudgetMb: config.MEMORY_BUDGET_MB,
      dbConnections: config.PG_POOL_SIZE,
      modelQuotaPerMin: config.LOADTEST_MODEL_QUOTA_PER_MIN,
      vectorDimension,
    },
  };
}
