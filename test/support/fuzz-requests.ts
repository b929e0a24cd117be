import fc from 'fast-check';
import { oddMcp, toolCalls, type ListedTool } from './fuzz-mcp.ts';
import { hostileString, hostileValue, SchemaValues } from './fuzz-values.ts';
import { encodeLoose, rawBody, type FuzzRequest } from './fuzz-wire.ts';

/** Who the fuzzer calls as: its user's keys (rotated) and the admin key. */
export interface FuzzCredentials {
  userKeys: readonly string[];
  adminKey: string;
}

interface Operation {
  target: string;
  method: string;
  template: string;
  pathParams: string[];
  query: { name: string; schema: unknown }[];
  body: unknown;
  admin: boolean;
}

interface Parameter {
  name: string;
  in: string;
  schema: unknown;
}

interface OpenApiOperation {
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
}

/** The `/v1` operations an OpenAPI document lists. */
export function operationsOf(doc: {
  paths: Record<string, Record<string, OpenApiOperation>>;
}): Operation[] {
  return Object.entries(doc.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      target: `${method.toUpperCase()} ${template}`,
      method: method.toUpperCase(),
      template,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      query: (op.parameters ?? []).filter((p) => p.in === 'query'),
      body: op.requestBody?.content?.['application/json']?.schema,
      admin: (op.tags ?? []).includes('admin'),
    })),
  );
}

const RAW_SEGMENTS = [
  '%ZZ',
  '%',
  '%00',
  '%E0%A4%A',
  '%ED%A0%80',
  '..',
  '%2F..%2F',
  '%C0%AF',
  '00000000-0000-0000-0000-000000000000',
  'a'.repeat(12_000),
];

const CONTENT_TYPES = [
  'text/plain',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
];

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, ...CONTENT_TYPES) },
);

const BAD_AUTH = [
  '',
  'Bearer',
  'Bearer ',
  'Basic Zm9vOmJhcg==',
  'Bearer not-a-key',
  `Bearer ${'k'.repeat(4000)}`,
];

function authorization(creds: FuzzCredentials, admin: boolean): fc.Arbitrary<string> {
  const user = fc.constantFrom(...creds.userKeys).map((k) => `Bearer ${k}`);
  const bad = fc.constantFrom(...BAD_AUTH);
  if (!admin) return fc.oneof({ weight: 14, arbitrary: user }, { weight: 1, arbitrary: bad });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${creds.adminKey}`) },
    { weight: 3, arbitrary: user },
    { weight: 1, arbitrary: bad },
  );
}

function pathSegment(ids: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.uuid() },
    { weight: ids.length > 0 ? 3 : 0, arbitrary: fc.constantFrom('', ...ids) },
    { weight: 3, arbitrary: hostileString.map((s) => encodeLoose(s.slice(0, 2000))) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

/**
 * A query string: half the time documented parameters with valid-ish values
 * only, else hostile values, unknown parameters, repeats and bad escapes.
 */
function queryString(op: Operation, values: SchemaValues): fc.Arbitrary<string> {
  const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const pair = (name: string, value: fc.Arbitrary<string>) =>
    fc.option(value.map((v) => `${encodeLoose(name)}=${encodeLoose(v)}`));
  const valid = op.query.map(({ name, schema }) => pair(name, values.valid(schema).map(text)));
  const hostile = op.query.map(({ name, schema }) =>
    pair(
      name,
      fc.oneof(
        values.valid(schema).map(text),
        hostileString.map((s) => s.slice(0, 3000)),
      ),
    ),
  );
  const extra = fc.option(
    fc.oneof(
      fc
        .tuple(hostileString, hostileString)
        .map(([k, v]) => `${encodeLoose(k.slice(0, 200))}=${encodeLoose(v.slice(0, 200))}`),
      fc.constantFrom('%ZZ=1', 'limit=1&limit=2', 'tag[x]=1', 'cursor=%ED%A0%80', '=', '&&'),
    ),
    { freq: 3 },
  );
  const join = (parts: (string | null)[]) => {
    const present = parts.filter((p): p is string => p !== null);
    return present.length > 0 ? `?${present.join('&')}` : '';
  };
  return fc.oneof(
    fc.tuple(...valid).map(join),
    fc.tuple(fc.tuple(...hostile), extra).map(([documented, more]) => join([...documented, more])),
  );
}

function bodyFor(
  op: Operation,
  values: SchemaValues,
): fc.Arbitrary<string | Uint8Array | undefined> {
  if (op.method === 'GET') return fc.constant(undefined);
  const json = (arb: fc.Arbitrary<unknown>) => arb.map((v) => JSON.stringify(v) ?? 'null');
  if (op.body === undefined) {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: rawBody },
      { weight: 1, arbitrary: json(hostileValue) },
    );
  }
  return fc.oneof(
    { weight: 4, arbitrary: json(values.valid(op.body)) },
    { weight: 5, arbitrary: json(values.mutated(op.body)) },
    { weight: 2, arbitrary: rawBody },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function restRequests(
  op: Operation,
  values: SchemaValues,
  creds: FuzzCredentials,
  ids: readonly string[],
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      segments: fc.tuple(...op.pathParams.map(() => pathSegment(ids))),
      query: queryString(op, values),
      body: bodyFor(op, values),
      auth: authorization(creds, op.admin),
      type: contentType,
    })
    .map(({ segments, query, body, auth, type }) => {
      let path = op.template;
      op.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, segments[i]!)));
      return {
        target: op.target,
        method: op.method,
        path: `${path}${query}`,
        headers: {
          ...(auth ? { authorization: auth } : {}),
          ...(type && body !== undefined ? { 'content-type': type } : {}),
        },
        ...(body !== undefined ? { body } : {}),
      };
    });
}

/** Methods no route has, and paths no route claims. */
const strayRequests = (creds: FuzzCredentials): fc.Arbitrary<FuzzRequest> =>
  fc
    .record({
      method: fc.constantFrom('PUT', 'OPTIONS', 'DELETE', 'PATCH', 'GET'),
      path: fc.oneof(
        fc.constantFrom('/v1/memories', '/v1/search', '/v1/context', '/v1', '/v1/memories/'),
        hostileString.map((s) => `/v1/${encodeLoose(s.slice(0, 500))}`),
      ),
    })
    .map(({ method, path }) => ({
      target: 'stray',
      method,
      path,
      headers: { authorization: `Bearer ${creds.userKeys[0]}` },
    }));

/**
 * Requests over every operation of `doc` and every tool in `tools`, with path
 * parameters drawn from random UUIDs, `ids` (the caller's own and other users')
 * and hostile segments; weights give each route and tool about the same share.
 */
export function fuzzRequests(
  doc: Parameters<typeof operationsOf>[0],
  tools: readonly ListedTool[],
  creds: FuzzCredentials,
  ids: readonly string[],
): { requests: fc.Arbitrary<FuzzRequest>; targets: string[]; values: SchemaValues } {
  const values = new SchemaValues(doc);
  const ops = operationsOf(doc);
  const key = authorization(creds, false);
  const arms = [
    ...ops.map((op) => ({ weight: 4, arbitrary: restRequests(op, values, creds, ids) })),
    ...tools.map((tool) => ({ weight: 4, arbitrary: toolCalls(tool, key) })),
    { weight: 3, arbitrary: oddMcp(key) },
    { weight: 1, arbitrary: strayRequests(creds) },
  ];
  return {
    requests: fc.oneof(...arms),
    targets: [...ops.map((op) => op.target), ...tools.map((t) => `mcp tools/call ${t.name}`)],
    values,
  };
}

/** The `index`-th request of the run seeded with `seed`: each can be regenerated alone. */
export function nthRequest(arb: fc.Arbitrary<FuzzRequest>, seed: number, index: number) {
  return fc.sample(arb, { seed: (seed + Math.imul(index, 0x9e3779b1)) | 0, numRuns: 1 })[0]!;
}

/**
 * The seed: `FUZZ_SEED` (a number, or `random`); else the fixed one in CI (`CI` set), so
 * CI runs repeat, and a random one on a developer's machine, so each run explores anew.
 */
export function fuzzSeed(fixed: number): number {
  const given = process.env.FUZZ_SEED?.trim() || (process.env.CI ? '' : 'random');
  if (!given) return fixed;
  if (given === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or random`);
  return seed;
}
