import { Router } from 'express';
import type { Metrics } from '../infra/metrics/metrics.ts';
import { createDashboardData, type DashboardMonitor } from './dashboard/dashboard-data.ts';
import { DASHBOARD_PAGE } from './dashboard/page.ts';
import { dashboardLogin, opsGuard } from './ops-auth.ts';

export interface DashboardDeps {
  memoryBudgetMb: number;
  /** The registry `/metrics` serves: requests, latency, caches, model calls, narrative queue. */
  metrics?: Metrics;
  /** The memory monitor: its latest sample, thresholds and alert history. */
  monitor?: DashboardMonitor;
  /** When set, every route here needs it (see `opsGuard`; a browser opens `/dashboard?token=`). */
  opsToken?: string | undefined;
}

/**
 * `/dashboard`: a self-contained live page (no CDN, works offline);
 * `/dashboard/data`, the figures it polls, read from the same sources as
 * `/metrics`; and `/status`, the process's own memory and uptime. With an
 * `opsToken`, all three need it.
 */
export function dashboardRoutes(deps: DashboardDeps): Router {
  const router = Router();
  const data = createDashboardData(deps);
  const guard = opsGuard(deps.opsToken);
  const pageGuard = opsGuard(deps.opsToken, { cookie: true });
  router.get('/dashboard', dashboardLogin(deps.opsToken), pageGuard, (_req, res) => {
    res.type('html').send(DASHBOARD_PAGE);
  });
  router.get('/dashboard/data', pageGuard, async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await data());
  });
  router.get('/status', guard, (_req, res) => {
    const usage = process.memoryUsage();
    res.json({
      uptime_s: process.uptime(),
      memory: {
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        budget: deps.memoryBudgetMb * 1024 * 1024,
      },
    });
  });
  return router;
}
