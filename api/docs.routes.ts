import { createHash } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { RouteSpec } from './route-registry.ts';

// The API's documentation: the OpenAPI document generated from the route specs
// (the schemas that validate requests), served as JSON and as a readable page.

type OpenApi = {
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
};

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function docsPage(doc: OpenApi): string {
  const sections = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const body = (op.requestBody as { content?: Record<string, { schema: unknown }> } | undefined)
        ?.content?.['application/json']?.schema;
      const params = (op.parameters as { name: string; in: string; required: boolean }[]) ?? [];
      const responses = Object.entries(
        op.responses as Record<
          string,
          { description: string; content?: Record<string, { schema: unknown }> }
        >,
      );
      return `<section>
  <h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h2>
  <p>${escape(String(op.summary ?? ''))}</p>
  ${op.description ? `<p class="d">${escape(String(op.description))}</p>` : ''}
  ${params.length ? `<p><b>Parameters:</b> ${params.map((p) => `<code>${escape(p.name)}</code> (${p.in}${p.required ? ', required' : ''})`).join(', ')}</p>` : ''}
  ${body ? `<details><summary>Request body</summary><pre>${escape(JSON.stringify(body, null, 2))}</pre></details>` : ''}
  ${responses
    .map(
      ([status, r]) =>
        `<details><summary>${status}: ${escape(r.description)}</summary>${r.content ? `<pre>${escape(JSON.stringify(r.content['application/json']?.schema, null, 2))}</pre>` : ''}</details>`,
    )
    .join('\n  ')}
</section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(doc.info.title)} API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
section{border-top:1px solid #dde;padding:.6rem 0}h2{font-size:1.05rem;margin:.3rem 0}
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .3rem}
.get{background:#2f7d32}.post{background:#1f5fbf}.patch{background:#a66a00}.delete{background:#b3261e}
pre{background:#f5f6f8;padding:.6rem;overflow:auto;font-size:.8rem}.d{color:#556}
</style></head><body>
<h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1>
<p>Every <code>/v1</code> route needs <code>Authorization: Bearer &lt;api key&gt;</code>. Errors are
<code>{"error": {"code", "message", "request_id"}}</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join('\n')}
</body></html>`;
}

/** `/openapi.json` and `/docs`, a readable page rendered from the same document. */
export function docsRoutes(doc: OpenApi): Router {
  const router = Router();
  const page = docsPage(doc);
  router.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(page);
  });
  return router;
}

type JsonObject = Record<string, unknown>;

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

/**
 * A route schema as JSON Schema whose shared parts (zod's `$defs`, such as
 * the recursive JSON value of metadata) are moved into `components.schemas`
 * and referenced from there: a `#/$defs/…` reference inside an OpenAPI
 * document would resolve against the document, where nothing is.
 */
function documentedSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: JsonObject,
): JsonObject {
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  // The dialect (`$schema`) is the document's own; the definitions move to the components.
  const { $defs = {}, ...withDialect } = generated as JsonObject & { $defs?: JsonObject };
  const rest = Object.fromEntries(Object.entries(withDialect).filter(([k]) => k !== '$schema'));
  // zod numbers its definitions per schema: name each by its content, so equal ones merge.
  const names = new Map(
    Object.entries($defs).map(([name, def]) => {
      const digest = createHash('sha256').update(JSON.stringify(def)).digest('hex');
      return [name, name.startsWith('__') ? `Schema_${digest.slice(0, 10)}` : name];
    }),
  );
  const relink = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(relink);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        const local = key === '$ref' && typeof item === 'string' && item.startsWith('#/$defs/');
        if (!local) return [key, relink(item)];
        return [key, `#/components/schemas/${names.get(item.slice('#/$defs/'.length))}`];
      }),
    );
  };
  for (const [name, def] of Object.entries($defs)) components[names.get(name)!] = relink(def);
  return relink(rest) as JsonObject;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'bad input: the message and `details.issues` name each bad field',
  401: 'missing, malformed, unknown or revoked API key',
  403: 'the admin API is disabled (no ADMIN_API_KEY)',
  404: 'nothing by that id (or route) for this caller',
  409: 'conflicts with the current state, such as another memory with this content',
  413: 'request body larger than the configured limit',
  415: 'request body sent as something other than application/json',
  429: 'too many requests from this caller: retry after `Retry-After` seconds',
  503: 'a dependency is unavailable or the server sheds load: retry after `Retry-After` seconds',
};

/** The error statuses a route can answer with: those its shape implies, and its own. */
function errorStatuses(route: RouteSpec): number[] {
  const input = Boolean(route.params ?? route.query ?? route.body);
  const implied: [boolean, number][] = [
    [input, 400],
    [route.auth !== 'none', 401],
    [route.auth === 'admin', 403],
    [Boolean(route.params), 404],
    [Boolean(route.body), 413],
    [Boolean(route.body), 415],
    [route.path.startsWith('/v1/'), 429],
    [route.auth !== 'none', 503],
  ];
  const statuses = new Set([
    ...implied.filter(([on]) => on).map(([, s]) => s),
    ...(route.errors ?? []),
  ]);
  return [...statuses].sort((a, b) => a - b);
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** `get /v1/memories/:id` → `getV1MemoriesById`, for routes that name no operation. */
const defaultOperationId = (route: RouteSpec) =>
  route.method +
  route.path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `By_${part.slice(1)}` : part))
    .map((part) =>
      part.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _s, c: string) => c.toUpperCase()),
    )
    .join('');

function parametersOf(route: RouteSpec, components: JsonObject): unknown[] {
  const parameters: unknown[] = [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const object = documentedSchema(schema, 'input', components) as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(object.properties ?? {})) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || (object.required ?? []).includes(name),
        schema: prop,
      });
    }
  }
  return parameters;
}

function responsesOf(route: RouteSpec, components: JsonObject): JsonObject {
  const responses: JsonObject = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const schema = response.schema && documentedSchema(response.schema, 'output', components);
    responses[status] = {
      description: response.description,
      ...(schema ? { content: { 'application/json': { schema } } } : {}),
      ...(response.links ? { links: response.links } : {}),
    };
  }
  for (const status of errorStatuses(route)) {
    responses[status] ??= errorResponse(ERROR_DESCRIPTIONS[status] ?? 'an error');
  }
  responses.default = errorResponse('an unexpected error (500): quote the request id');
  return responses;
}

function operationOf(route: RouteSpec, components: JsonObject): JsonObject {
  const parameters = parametersOf(route, components);
  const bodySchema = route.docsBody ?? (typeof route.body === 'function' ? undefined : route.body);
  const body = bodySchema && documentedSchema(bodySchema, 'input', components);
  return {
    operationId: route.operationId ?? defaultOperationId(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.auth === 'none' ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } }
      : {}),
    responses: responsesOf(route, components),
  };
}

/**
 * An OpenAPI 3.1 document generated from the same schemas that validate
 * requests: every `$ref` resolves within it, and every route lists the error
 * statuses it can answer with.
 */
export function openApiDocument(
  routes: readonly RouteSpec[],
  info: { title: string; version: string },
) {
  const components: JsonObject = { Error: errorSchema };
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method]: operationOf(route, components) };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: components,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key' } },
    },
    security: [{ apiKey: [] }],
  };
}
