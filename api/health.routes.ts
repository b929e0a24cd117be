import { Router } from 'express';
import type { Logger } from 'pino';

/** A dependency the API needs in order to serve, checked by `/readyz`. */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or runs out of time) when it does not. */
  check(): Promise<void>;
}

/**
 * A readiness failure whose state may be shown to anyone (`restarting`,
 * `stopped`); its detail goes to the log only. Any other failure reads
 * `unavailable`, and a check that does not answer in time `timeout`.
 */
export class NotReady extends Error {
  constructor(
    readonly state: string,
    detail = state,
  ) {
    super(detail);
    this.name = 'NotReady';
  }
}

interface CheckOutcome {
  ok: boolean;
  ms: number;
  /** The generic state of a failed check (`timeout`, `unavailable`, or a NotReady's); never the error's text. */
  error?: string;
}

class CheckTimeout extends Error {}

async function runCheck(
  check: ReadinessCheck,
  timeoutMs: number,
  logger: Logger,
): Promise<CheckOutcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CheckTimeout()), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const state =
      error instanceof CheckTimeout
        ? 'timeout'
        : error instanceof NotReady
          ? error.state
          : 'unavailable';
    logger.warn({ err: error, dependency: check.name, state }, 'readiness check failed');
    return { ok: false, ms: Math.round(performance.now() - started), error: state };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: the process is alive. `/readyz`: every dependency answers, or a
 * 503 naming those that do not with a generic state (`timeout`,
 * `unavailable`); what went wrong is logged, never sent.
 */
export function healthRoutes(
  checks: readonly ReadinessCheck[],
  timeoutMs: number,
  logger: Logger,
): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptime_s: Math.round(process.uptime()) });
  });
  router.get('/readyz', async (_req, res) => {
    const outcomes = await Promise.all(checks.map((c) => runCheck(c, timeoutMs, logger)));
    const results = Object.fromEntries(checks.map((c, i) => [c.name, outcomes[i]]));
    const down = checks.filter((_, i) => !outcomes[i]?.ok).map((c) => c.name);
    if (down.length > 0) res.setHeader('Retry-After', '5');
    res.status(down.length > 0 ? 503 : 200).json({
      status: down.length > 0 ? 'unavailable' : 'ready',
      ...(down.length > 0 ? { down, message: `not ready: ${down.join(', ')} unavailable` } : {}),
      checks: results,
    });
  });
  return router;
}
