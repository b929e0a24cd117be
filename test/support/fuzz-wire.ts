import fc from 'fast-check';
import { hostileString } from './fuzz-values.ts';

/** One generated HTTP request; `target` names the route or tool it exercises. */
export interface FuzzRequest {
  target: string;
  method: string;
  /** Path and query string, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

const RAW_BODIES = [
  '{',
  '{"content": "x",}',
  "{'content': 'x'}",
  'NaN',
  '[1,]',
  'null',
  '123',
  '"text"',
  '',
  '{"a":1}{"b":2}',
  '\uFEFF{"content":"with a byte-order mark"}',
  '{"content":"\\ud800 and \\u0000"}',
  '{"__proto__":{"admin":true},"content":"x"}',
];

const deepBody = (depth: number) =>
  `{"content":"deep","metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

/** `{"content":"…"}` with bytes that are not UTF-8 in the string. */
const INVALID_UTF8 = new Uint8Array([
  ...Buffer.from('{"content":"'),
  0xff,
  0xfe,
  0xc3,
  0x28,
  0xed,
  0xa0,
  0x80,
  ...Buffer.from('"}'),
]);

/** Malformed bodies: broken JSON, deep nesting, bytes that are not UTF-8, random text. */
export const rawBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...RAW_BODIES) },
  { weight: 1, arbitrary: fc.constantFrom(5_000, 100_000).map(deepBody) },
  { weight: 1, arbitrary: fc.constant(INVALID_UTF8) },
  { weight: 2, arbitrary: hostileString },
);

/**
 * Percent-encodes like `encodeURIComponent`, but writes a lone surrogate as
 * its WTF-8 bytes (which `encodeURIComponent` refuses) so that it reaches the server.
 */
export function encodeLoose(text: string): string {
  const pct = (byte: number) => `%${byte.toString(16).toUpperCase()}`;
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    out +=
      code >= 0xd800 && code <= 0xdfff
        ? pct(0xe0 | (code >> 12)) + pct(0x80 | ((code >> 6) & 0x3f)) + pct(0x80 | (code & 0x3f))
        : encodeURIComponent(char);
  }
  return out;
}

/** A request written out to be replayed by hand: the body cut to its first 300 characters. */
export function describeRequest(r: FuzzRequest): string {
  const { authorization: auth, ...headers } = r.headers;
  const body =
    r.body === undefined
      ? ''
      : typeof r.body === 'string'
        ? ` body(${r.body.length} chars)=${JSON.stringify(r.body.slice(0, 300))}`
        : ` body(bytes)=${Buffer.from(r.body).toString('hex')}`;
  // Real keys are not printed: a replay uses the route's kind of key (a user's, or the admin key).
  const who =
    auth === undefined
      ? 'no Authorization'
      : /^Bearer [\w-]{20,100}$/.test(auth)
        ? 'Authorization: Bearer <key>'
        : `Authorization: ${JSON.stringify(auth.slice(0, 40))}`;
  return `${r.method} ${r.path.slice(0, 300)} [${who}] ${JSON.stringify(headers)}${body}`;
}
