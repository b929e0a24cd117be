import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const CLIENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    /** Correlates the response, its logs and any error report. */
    id: string;
  }
}

/** Gives every request an id (the caller's `x-request-id` when sane) and logs it once done. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const offered = req.get('x-request-id');
    req.id = offered && CLIENT_ID.test(offered) ? offered : randomUUID();
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          request_id: req.id,
          method: req.method,
          path: withoutToken(req.originalUrl),
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}

/** The path as logged: a `token` query parameter (the dashboard's OPS_TOKEN sign-in) is blanked. */
function withoutToken(url: string): string {
  return url.includes('token=') ? url.replace(/([?&]token=)[^&#]*/g, '$1redacted') : url;
}
