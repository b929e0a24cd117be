import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';

export type CacheKind = 'plan' | 'search';

// Typographic quotes that keyboards and phones swap for the ASCII ones.
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B\u2032]/g;
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u2033]/g;
const PUNCTUATION_OR_SPACE = /^[\p{P}\s]$/u;

/**
 * `text` without its trailing punctuation and spaces, in one pass from the
 * end: `/[\p{P}\s]+$/u` would retry the run from each of its characters
 * (quadratic on a long run that ends in a letter).
 */
function trimTrailingPunctuation(text: string): string {
  let end = text.length;
  while (end > 0) {
    const code = text.charCodeAt(end - 1);
    // A low surrogate ends a two-unit character (punctuation exists outside the BMP).
    const width = code >= 0xdc00 && code <= 0xdfff && end >= 2 ? 2 : 1;
    if (!PUNCTUATION_OR_SPACE.test(text.slice(end - width, end))) break;
    end -= width;
  }
  return text.slice(0, end);
}

/**
 * The form of a message that decides its plan: NFKC, lower case, ASCII
 * quotes, single spaces, no trailing punctuation. So "What's my dog's name?"
 * and "what’s my  dog's name" share a cache entry. A message made only of
 * punctuation keeps it, so "?" and "!" stay apart.
 */
export function normalizeMessage(text: string): string {
  const collapsed = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(SINGLE_QUOTES, "'")
    .replace(DOUBLE_QUOTES, '"')
    .replace(/\s+/gu, ' ')
    .trim();
  return trimTrailingPunctuation(collapsed) || collapsed;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` give the same key. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * A compact cache key: `<kind>:<userId>:v<dataVersion>:<digest>`, the digest
 * being SHA-256 (base64url) of every input, so the readable prefix is only
 * for people and the store. Because the user's data version is in the key, a
 * saved or deleted memory makes the user's old entries unreachable; they age
 * out by LRU and TTL instead of being searched for.
 *
 * `parts` may be strings, numbers, arrays and plain objects (key order does
 * not matter; Dates become ISO strings). Normalise messages before passing
 * them (see {@link normalizeMessage}).
 */
export function cacheKey(
  kind: CacheKind,
  userId: string,
  dataVersion: number,
  ...parts: unknown[]
): string {
  if (userId.length === 0) throw new AppError('internal', 'cache key needs a user id');
  if (!Number.isSafeInteger(dataVersion) || dataVersion < 0) {
    throw new AppError('internal', `cache key needs a data version, got ${dataVersion}`);
  }
  const digest = createHash('sha256')
    .update(canonicalJson([kind, userId, dataVersion, parts]))
    .digest('base64url');
  // join() copies into one flat string, so a key costs about its bytes; a template literal
  // keeps a rope of its pieces alive (700 bytes for an 88-byte key whose user id came from
  // crypto.randomUUID, itself a rope), which the byte accounting would not see.
  return [kind, encodeURIComponent(userId), `v${dataVersion}`, digest].join(':');
}

/** The user id a key from {@link cacheKey} was made for, or null for any other string. */
export function userIdOfKey(key: string): string | null {
  const [kind, user, version, digest, extra] = key.split(':');
  if (
    (kind !== 'plan' && kind !== 'search') ||
    !user ||
    !version?.startsWith('v') ||
    !digest ||
    extra !== undefined
  ) {
    return null;
  }
  try {
    return decodeURIComponent(user);
  } catch {
    return null;
  }
}
