import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
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
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler(ctx: RouteContext<P, Q, B>): Promise<RouteResult>;
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
      const rawBody: unknown = req.body ?? {};
      const bodySchema = typeof route.body === 'function' ? route.body(rawBody) : route.body;
      const body = bodySchema ? parse(bodySchema, rawBody, 'body') : undefined;
      const result = await route.handler({ params, query, body, userId, req, res });
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    };
    router[route.method](route.path, handler);
  }
  return router;
}

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'request_id'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        request_id: { type: 'string' },
        details: { type: 'object' },
      },
    },
  },
};

/** An OpenAPI 3.1 document generated from the same schemas that validate requests. */
export function openApiDocument(
  routes: readonly RouteSpec[],
  info: { title: string; version: string },
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', route.params],
      ['query', route.query],
    ] as const) {
      if (!schema) continue;
      const properties = jsonSchema(schema, 'input') as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, prop] of Object.entries(properties.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (properties.required ?? []).includes(name),
          schema: prop,
        });
      }
    }
    const bodySchema =
      route.docsBody ?? (typeof route.body === 'function' ? undefined : route.body);
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } }
          : {}),
      };
    }
    responses.default = {
      description: 'An error: 400 bad input, 401/403 auth, 404, 409, 413, 503 dependency down',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    paths[path] = {
      ...paths[path],
      [route.method]: {
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        tags: [route.tag],
        ...(route.auth === 'none' ? { security: [] } : {}),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(bodySchema
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(bodySchema, 'input') } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key' } },
    },
    security: [{ apiKey: [] }],
  };
}
