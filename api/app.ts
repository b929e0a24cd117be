// api/: the HTTP edge. The app factory, the route registry (validation and
// OpenAPI from one schema), auth, thin routes over the presenters in
// api/presenters (which the MCP tools in api/mcp call too), error mapping and
// the dashboard page. May import core/ and the infra/ it serves (metrics,
// monitor); never app/, workers/ or tooling. Assembled by app/start-api.ts.
import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import { dashboardRoutes } from './dashboard.routes.ts';
import type { DashboardMonitor } from './dashboard/dashboard-data.ts';
import { errorHandler, notFound } from './errors.ts';
import { docsRoutes, openApiDocument } from './docs.routes.ts';
import { healthRoutes, type ReadinessCheck } from './health.routes.ts';
import type { Metrics } from '../infra/metrics/metrics.ts';
import { httpMetrics, memoryHeader, metricsRoutes, type MemoryReader } from './metrics.routes.ts';
import { mountRoutes, type Authenticator, type RouteSpec } from './route-registry.ts';
import { requestContext } from './request-context.ts';

export interface AppDeps {
  logger: Logger;
  readinessChecks: readonly ReadinessCheck[];
  readinessTimeoutMs: number;
  bodyLimitKb: number;
  memoryBudgetMb: number;
  /** The `/v1` API; absent in apps built only to test the HTTP edge. */
  v1?: { routes: RouteSpec[]; auth: Authenticator; mcp?: Router };
  /** The MCP endpoint, mounted at `/mcp`; defaults to the one `v1` brings. */
  mcp?: Router;
  /**
   * The memory monitor: its last reading goes out in `X-Memory-Usage` on every response;
   * the dashboard shows it with its thresholds and alert history.
   */
  monitor?: MemoryReader & DashboardMonitor;
  /** Prometheus metrics: HTTP histograms for every request, and `GET /metrics`. */
  metrics?: Metrics;
  /** When set, `/metrics`, `/status` and the dashboard need it (`OPS_TOKEN`). */
  opsToken?: string | undefined;
}

/** Builds the Express application; it holds no process state, so tests build their own. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
  if (deps.monitor) app.use(memoryHeader(deps.monitor));
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(express.json({ limit: `${deps.bodyLimitKb}kb`, strict: true }));
  app.use(healthRoutes(deps.readinessChecks, deps.readinessTimeoutMs, deps.logger));
  const { memoryBudgetMb, metrics, monitor } = deps;
  app.use(dashboardRoutes({ memoryBudgetMb, metrics, monitor, opsToken: deps.opsToken }));
  if (deps.metrics) app.use(metricsRoutes(deps.metrics, { opsToken: deps.opsToken }));
  if (deps.v1) {
    const doc = openApiDocument(deps.v1.routes, { title: 'memory-engine', version: '0.1.0' });
    app.use(docsRoutes(doc));
    app.use(mountRoutes(deps.v1.routes, deps.v1.auth));
  }
  const mcp = deps.mcp ?? deps.v1?.mcp;
  if (mcp) app.use('/mcp', mcp);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
