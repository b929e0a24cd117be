import { Router } from 'express';

/** A dependency the API needs in order to serve, checked by `/readyz`. */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or runs out of time) when it does not. */
  check(): Promise<void>;
}

interface CheckOutcome {
  ok: boolean;
  ms: number;
  error?: string;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckOutcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`: the process is alive. `/readyz`: every dependency answers, or a 503 naming those that do not. */
export function healthRoutes(checks: readonly ReadinessCheck[], timeoutMs: number): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptime_s: Math.round(process.uptime()) });
  });
  router.get('/readyz', async (_req, res) => {
    const outcomes = await Promise.all(checks.map((c) => runCheck(c, timeoutMs)));
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
