import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, type ErrorCode } from '../core/errors.ts';

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
  else if (error.code === 'rate_limited' || error.status === 503) {
    // The rate limiter sets its own, exact value.
    if (!res.hasHeader('Retry-After')) res.setHeader('Retry-After', '1');
  }
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

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * Client errors raised by Express and its router with a 4xx `status` (a path
 * that is not valid percent-encoding raises a URIError with status 400):
 * they keep their 4xx, with a message of ours rather than theirs.
 */
function fromHttpError(error: { status?: unknown; statusCode?: unknown }): AppError | null {
  const status = Number(error.status ?? error.statusCode);
  if (!Number.isInteger(status) || status < 400 || status > 499) return null;
  if (error instanceof URIError) {
    return new AppError('bad_request', 'the request path is not valid percent-encoded UTF-8');
  }
  return new AppError(
    CODE_BY_STATUS[status] ?? 'bad_request',
    `the request was refused (${status})`,
  );
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
          ? (fromBodyParser(error as { type?: string }) ?? fromHttpError(error))
          : null;
    if (known) {
      if (known.status >= 500) logger.warn({ request_id: req.id, err: error }, known.message);
      // A value the database refused (the drivers' last line): the edge should have caught it.
      else if (known.details?.sqlstate) {
        logger.warn(
          { request_id: req.id, err: known.cause },
          'the database refused a request value',
        );
      }
      return send(res, req, known);
    }
    logger.error({ request_id: req.id, err: error }, 'unhandled error');
    send(res, req, new AppError('internal', 'internal error; quote the request id when reporting'));
  };
}
