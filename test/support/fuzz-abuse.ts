import { nested } from './fuzz-values.ts';
import type { FuzzRequest } from './fuzz-wire.ts';

const HUGE = 'ж'.repeat(100_000);
const DEEP_RAW = `{"content":"deep","metadata":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
const NOT_UTF8 = new Uint8Array([
  ...Buffer.from('{"content":"'),
  0xff,
  0xc3,
  0x28,
  ...Buffer.from('"}'),
]);

/** Every malformed kind, by name: what a hostile or broken client sends. */
function hostileBodies(otherUsersMemory: string): Record<string, [string, string, unknown][]> {
  return {
    nul: [
      ['POST', '/v1/memories', { content: 'before\u0000after' }],
      [
        'POST',
        '/v1/memories',
        { content: 'ok', tags: ['t\u0000'], metadata: { '\u0000': '\u0000' } },
      ],
      ['POST', '/v1/search', { query: '\u0000' }],
      ['POST', '/v1/context', { message: 'who am I\u0000' }],
      ['POST', '/v1/memories', { memories: [{ content: 'fine' }, { content: 'nul \u0000' }] }],
    ],
    surrogates: [
      ['POST', '/v1/memories', { content: 'lone \uD800 high' }],
      [
        'POST',
        '/v1/memories',
        { content: 'ok', tags: ['\uDFFF'], metadata: { '\uD800': '\uDC00' } },
      ],
      ['POST', '/v1/search', { query: '\uDBFF' }],
      ['POST', '/v1/context', { message: '\u202E\uD800 reversed' }],
      ['POST', '/v1/memories', { memories: [{ content: 'fine too' }, { content: '\uDC00' }] }],
    ],
    'deep metadata': [
      ['POST', '/v1/memories', { content: 'deep', metadata: { a: nested(1500) } }],
      ['PATCH', `/v1/memories/${otherUsersMemory}`, { metadata: { a: nested(1500) } }],
    ],
    'huge strings': [
      ['POST', '/v1/memories', { content: HUGE }],
      ['POST', '/v1/memories', { content: 'ok', tags: [HUGE] }],
      ['POST', '/v1/memories', { content: 'ok', metadata: { k: HUGE } }],
      ['POST', '/v1/search', { query: HUGE }],
      ['POST', '/v1/context', { message: HUGE }],
    ],
    'another user': [
      ['GET', `/v1/memories/${otherUsersMemory}`, undefined],
      ['PATCH', `/v1/memories/${otherUsersMemory}`, { content: 'overwritten' }],
      ['DELETE', `/v1/memories/${otherUsersMemory}`, undefined],
    ],
  };
}

const RAW_PATHS: [string, string][] = [
  ['GET', '/v1/memories?cursor=garbage'],
  ['GET', '/v1/memories?cursor=%00'],
  ['GET', '/v1/memories?cursor=%ED%A0%80'],
  ['GET', `/v1/memories?cursor=${Buffer.from('{"t":"x","id":1}').toString('base64url')}`],
  ['GET', `/v1/memories?cursor=${'A'.repeat(499)}`],
  ['GET', '/v1/memories?cursor=a&cursor=b'],
  ['GET', '/v1/memories/%ZZ'],
  ['PATCH', '/v1/memories/%ZZ'],
  ['DELETE', '/v1/memories/%E0%A4%A'],
  ['GET', '/v1/memories?tag=%ZZ'],
  ['GET', '/v1/%ZZ'],
];

const MALFORMED: [string, string | Uint8Array, string][] = [
  ['/v1/memories', '{', 'application/json'],
  ['/v1/memories', '{"content": "x",}', 'application/json'],
  ['/v1/memories', NOT_UTF8, 'application/json'],
  ['/v1/memories', DEEP_RAW, 'application/json'],
  ['/v1/memories', '{"content":"x"}', 'application/json; charset=utf-16'],
  ['/v1/search', '"just a string"', 'application/json'],
  ['/mcp?stateless', '{"jsonrpc":"2.0","id":1,', 'application/json'],
];

const mcpCall = (name: string, args: unknown) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: args },
  });

const MCP_CALLS: [string, unknown][] = [
  ['remember', { content: 'mcp \u0000 nul' }],
  ['remember', { content: '\uD800' }],
  ['get_context', { message: HUGE }],
  ['search_memories', { query: '\uDFFF\u0000' }],
  ['list_memories', { cursor: 'garbage' }],
  ['update_memory', { id: '%ZZ', content: 'x' }],
];

/**
 * One user's hostile requests, each labelled with its kind: NUL, lone
 * surrogates, deep metadata, huge strings, another user's memory, bad cursors,
 * `%ZZ` paths, malformed JSON and hostile MCP tool calls.
 */
export function abuseRequests(key: string, otherUsersMemory: string): FuzzRequest[] {
  const authorization = `Bearer ${key}`;
  const json = { authorization, 'content-type': 'application/json' };
  const mcp = { ...json, accept: 'application/json, text/event-stream' };
  return [
    ...Object.entries(hostileBodies(otherUsersMemory)).flatMap(([kind, list]) =>
      list.map(([method, path, body]) => ({
        target: kind,
        method,
        path,
        headers: json,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })),
    ),
    ...RAW_PATHS.map(([method, path]) => ({
      target: path.includes('cursor') ? 'bad cursor' : '%ZZ path',
      method,
      path,
      headers: { authorization },
    })),
    ...MALFORMED.map(([path, body, type]) => ({
      target: 'malformed body',
      method: 'POST',
      path,
      headers: { authorization, 'content-type': type, accept: mcp.accept },
      body,
    })),
    ...MCP_CALLS.map(([name, args]) => ({
      target: 'hostile tool call',
      method: 'POST',
      path: '/mcp?stateless',
      headers: mcp,
      body: mcpCall(name, args),
    })),
  ];
}
