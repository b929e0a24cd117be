import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { parseInput as parse } from './validation.ts';

export type Auth = 'none' | 'user' | 'admin';
type Method = 'get' | 'post' | 'patch' | 'delete';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The caller's user id (from the API key) on `user` routes. */
  userId: string;
  req: Request;
  res: Response;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /** The handler wrote the response itself (a stream): nothing more is sent. */
  sent?: boolean;
}

/** One route: its schemas validate requests and document it, so the spec cannot drift. */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** Express-style path, such as `/v1/memories/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: Auth;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** The body schema, or a function choosing it from the raw body (for one-or-many bodies). */
  body?: z.ZodType<B> | ((raw: unknown) => z.ZodType<B>);
  /** The body as documented, when `body` is a function. */
  docsBody?: z.ZodType;
  responses: Record<number, RouteResponse>;
  /** Names the operation in the OpenAPI document (for links); derived from method and path when absent. */
  operationId?: string;
  /**
   * Error statuses this route returns besides those its shape implies (400 with input,
   * 401 and 503 with auth, 403 on admin routes, 404 with path params, 413 and 415 with a
   * body, 429 under /v1): 404 for a lookup without params, 409 for a conflict.
   */
  errors?: number[];
  handler(ctx: RouteContext<P, Q, B>): Promise<RouteResult>;
}

/** An OpenAPI link: the operation a response leads to, and its parameters as runtime expressions. */
export interface RouteLink {
  operationId: string;
  parameters: Record<string, string>;
  description?: string;
}

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  links?: Record<string, RouteLink>;
}

/** Keeps the route's type parameters when put in a list. */
export const defineRoute = <P, Q, B>(spec: RouteSpec<P, Q, B>): RouteSpec =>
  spec as unknown as RouteSpec;

/**
 * Defines routes that share a tag and an auth (the routes of one file, mostly),
 * so that each spec says only what is its own.
 */
export function routeGroup(shared: { tag: string; auth: Auth }) {
  return <P, Q, B>(spec: Omit<RouteSpec<P, Q, B>, 'tag' | 'auth'>): RouteSpec =>
    defineRoute<P, Q, B>({ ...spec, ...shared });
}

export interface Authenticator {
  user(req: Request): Promise<string>;
  admin(req: Request): void;
}

/** A body sent as anything but JSON is refused, rather than read as an empty one. */
function requireJsonBody(req: Request): void {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding');
  if (hasBody && !req.is('application/json')) {
    throw new AppError(
      'unsupported_media_type',
      'expected a body with Content-Type: application/json',
    );
  }
}

/** Mounts the routes on a router: authenticate, validate, call the handler, send. */
export function mountRoutes(routes: readonly RouteSpec[], auth: Authenticator): Router {
  const router = Router();
  for (const route of routes) {
    const handler: RequestHandler = async (req: Request, res: Response) => {
      let userId = '';
      if (route.auth === 'user') userId = await auth.user(req);
      if (route.auth === 'admin') auth.admin(req);
      const params = route.params ? parse(route.params, req.params, 'params') : req.params;
      const query = route.query ? parse(route.query, req.query, 'query') : req.query;
      if (route.body) requireJsonBody(req);
      const rawBody: unknown = req.body ?? {};
      const bodySchema = typeof route.body === 'function' ? route.body(rawBody) : route.body;
      const body = bodySchema ? parse(bodySchema, rawBody, 'body') : undefined;
      const result = await route.handler({ params, query, body, userId, req, res });
      if (result.sent) return;
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    };
    router[route.method](route.path, handler);
  }
  return router;
}
