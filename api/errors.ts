import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';

/** The envelope of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; request_id: string; details?: Record<string, unknown> };
}

function send(res: Response, req: Request, error: AppError) {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      request_id: req.id,
      ...(error.details ? { details: error.details } : {}),
    },
  };
  // Memory relief (cache clears, GC) takes a few samples: an overloaded caller waits longer.
  if (error.code === 'overloaded') res.setHeader('Retry-After', '5');
  else if (error.code === 'rate_limited' || error.status === 503) res.setHeader('Retry-After', '1');
  // For the metrics middleware (refused requests are counted by code).
  res.locals.errorCode = error.code;
  res.status(error.status).json(body);
}

// body-parser reports its failures with a `type`; each maps to a client error.
function fromBodyParser(error: { type?: string; limit?: number }): AppError | null {
  switch (error.type) {
    case 'entity.too.large':
      return new AppError('payload_too_large', `request body is larger than ${error.limit} bytes`);
    case 'entity.parse.failed':
      return new AppError('bad_request', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'request body encoding is not supported');
    case 'request.aborted':
      return new AppError('bad_request', 'request was aborted by the client');
    default:
      return null;
  }
}

/** JSON 404 for any route nobody claimed. */
export function notFound(req: Request, res: Response) {
  send(res, req, new AppError('not_found', `no route for ${req.method} ${req.path}`));
}

/** Maps errors to the envelope; anything unexpected is a logged 500 with the request id. */
export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const known =
      error instanceof AppError
        ? error
        : typeof error === 'object' && error !== null
          ? fromBodyParser(error as { type?: string })
          : null;
    if (known) {
      if (known.status >= 500) logger.warn({ request_id: req.id, err: error }, known.message);
      return send(res, req, known);
    }
    logger.error({ request_id: req.id, err: error }, 'unhandled error');
    send(res, req, new AppError('internal', 'internal error; quote the request id when reporting'));
  };
}
