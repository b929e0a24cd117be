import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { dashboardRoutes } from './dashboard.routes.ts';
import { errorHandler, notFound } from './errors.ts';
import { healthRoutes, type ReadinessCheck } from './health.routes.ts';
import { requestContext } from './request-context.ts';

export interface AppDeps {
  logger: Logger;
  readinessChecks: readonly ReadinessCheck[];
  readinessTimeoutMs: number;
  bodyLimitKb: number;
  memoryBudgetMb: number;
}

/** Builds the Express application; it holds no process state, so tests build their own. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
  app.use(express.json({ limit: `${deps.bodyLimitKb}kb`, strict: true }));
  app.use(healthRoutes(deps.readinessChecks, deps.readinessTimeoutMs));
  app.use(dashboardRoutes(deps.memoryBudgetMb));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
