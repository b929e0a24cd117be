import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'mem_';

export interface GeneratedKey {
  /** Shown to the caller once; never stored. */
  apiKey: string;
  /** What the store keeps: SHA-256 of the key (keys carry 256 random bits, so no slow hash is needed). */
  hash: string;
  /** The first characters, kept to help operators tell keys apart. */
  prefix: string;
}

/** A new random API key and what the store keeps of it. */
export function generateApiKey(): GeneratedKey {
  const apiKey = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { apiKey, hash: hashApiKey(apiKey), prefix: apiKey.slice(0, 10) };
}

/** The stored form of a key. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** Reads `Authorization: Bearer <key>`; null when absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]{8,256})\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}
