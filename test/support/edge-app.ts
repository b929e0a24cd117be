import { createApp, type AppDeps } from '../../api/app.ts';
import { createLogger } from '../../infra/logger.ts';

/**
 * The HTTP edge alone (no readiness checks, a silent logger, a 64 KiB body
 * limit) with whatever `/v1` or `/mcp` a test mounts on it.
 */
export function edgeApp(deps: Partial<AppDeps> = {}) {
  return createApp({
    logger: createLogger('silent'),
    readinessChecks: [],
    readinessTimeoutMs: 1000,
    bodyLimitKb: 64,
    memoryBudgetMb: 2048,
    ...deps,
  });
}
