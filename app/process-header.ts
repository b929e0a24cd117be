import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { bearerToken, sameSecret } from '../core/auth/api-keys.ts';
import type { Config } from '../infra/config.ts';
import { hasLayoutParent } from './layout-child.ts';

/** Names the API process that answered (its pid), when several share the port. */
export const PROCESS_HEADER = 'X-Api-Process';

/**
 * In an API process of `PROCESSES=api,worker` (several share the port),
 * `X-Api-Process: <pid>` on every response, to match a response with its
 * process's logs (which carry `pid`). Shown to those `/status` is shown to:
 * everyone on a loopback-only API, else only requests bearing `OPS_TOKEN`.
 * A single process gets `app` unchanged.
 */
export function withProcessHeader(app: Express, config: Pick<Config, 'OPS_TOKEN'>): Express {
  if (!hasLayoutParent()) return app;
  const token = config.OPS_TOKEN;
  const pid = String(process.pid);
  const outer = express();
  outer.disable('x-powered-by');
  outer.set('trust proxy', 'loopback');
  outer.use((req: Request, res: Response, next: NextFunction) => {
    const offered = token ? bearerToken(req.get('authorization')) : null;
    if (!token || (offered && sameSecret(offered, token))) res.setHeader(PROCESS_HEADER, pid);
    next();
  });
  outer.use(app);
  return outer;
}
