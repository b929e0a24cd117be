import { Router, type NextFunction, type Request, type Response } from 'express';
import type { MessageClass, Metrics } from '../infra/metrics/metrics.ts';
import { opsGuard } from './ops-auth.ts';

const MB = 1024 * 1024;
const CLASSES = new Set<string>(['simple', 'complex', 'new_conversation', 'none']);

/** What the memory header needs from the monitor. */
export interface MemoryReader {
  latest(): { rss: number; budgetBytes: number; usagePct: number };
}

/** What `POST /v1/context` leaves in `res.locals.context` for the metrics. */
export interface ContextLocals {
  messageClass: string;
  planClass: string;
  reason: string;
  planSource: string;
  /** Why the model could not plan, when a heuristic plan stood in for it. */
  planFallback?: string;
  modelCalls: number;
}

/** The `X-Memory-Usage` value: `<rss MB>/<budget MB> MB (<pct>%)`, RSS against the budget. */
export function formatMemoryUsage(sample: ReturnType<MemoryReader['latest']>): string {
  const pct = Math.round(sample.usagePct * 10) / 10;
  return `${Math.round(sample.rss / MB)}/${Math.round(sample.budgetBytes / MB)} MB (${pct}%)`;
}

/** Puts the monitor's last reading on every response (errors and 404s included). */
export function memoryHeader(monitor: MemoryReader) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Memory-Usage', formatMemoryUsage(monitor.latest()));
    next();
  };
}

/** The route pattern as matched, read when the response head is written (before routers unwind). */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

/**
 * Times every request into the HTTP histogram, labelled by route pattern and,
 * on the context route, by message class; counts classifier decisions, the
 * model calls context requests made, and requests shed under memory pressure.
 */
export function httpMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    let route = 'unmatched';
    const writeHead = res.writeHead;
    res.writeHead = function (this: Response, ...args: unknown[]) {
      route = routeOf(req);
      return (writeHead as (...a: unknown[]) => Response).apply(this, args);
    } as typeof res.writeHead;
    res.on('finish', () => {
      const context = res.locals.context as ContextLocals | undefined;
      const messageClass = (
        context && CLASSES.has(context.messageClass) ? context.messageClass : 'none'
      ) as MessageClass;
      if (context) {
        metrics.countClassification(context.planClass, context.reason);
        metrics.countContextModelCalls(context.planSource, context.modelCalls);
        if (context.planFallback) metrics.countPlanFallback(context.planFallback);
      }
      if (res.locals.errorCode === 'overloaded') metrics.countShed(route);
      metrics.observeHttp({
        method: req.method,
        route,
        status: res.statusCode,
        messageClass,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });
    next();
  };
}

/**
 * `GET /metrics`: Prometheus text exposition (the app's metrics, then
 * Temporal's worker metrics); with an `opsToken`, only for
 * `Authorization: Bearer <OPS_TOKEN>` (Prometheus: `authorization.credentials`).
 */
export function metricsRoutes(
  metrics: Metrics,
  options: { opsToken?: string | undefined } = {},
): Router {
  const router = Router();
  router.get('/metrics', opsGuard(options.opsToken), async (_req, res) => {
    const text = await metrics.render();
    res.setHeader('Content-Type', metrics.contentType);
    res.send(text);
  });
  return router;
}
