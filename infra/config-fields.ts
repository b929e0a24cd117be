// The kinds of value `infra/config.ts` reads, each with the message that
// names what it expects; and which variables are secrets (never echoed).
import { z } from 'zod';

export const port = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a port number' })
    .int('expected an integer port')
    .min(0, 'expected a port between 0 and 65535')
    .max(65535, 'expected a port between 0 and 65535')
    .default(fallback);

/** A whole number of at least `min`, at most `max`, `fallback` when unset. */
const intAtLeast = (min: number, fallback: number, max: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(min, `expected a number of at least ${min}`)
    .max(max, `expected a number of at most ${max}`)
    .default(fallback);

export const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  intAtLeast(1, fallback, max);

/** A whole number from 0 (0 usually meaning "none" or "off"). */
export const wholeNumber = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  intAtLeast(0, fallback, max);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const optionalUrl = (what: string) =>
  optionalString.refine((v) => v === undefined || URL.canParse(v), `expected ${what}`);

/** A comma-separated list, each entry checked by `valid` (whose message names what it expects). */
export const commaList = (what: string, valid: (entry: string) => boolean) =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((entries) => entries.every(valid), `expected a comma-separated list of ${what}`);

export const isOrigin = (entry: string) => {
  try {
    const url = new URL(entry);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry;
  } catch {
    return false;
  }
};

export const isHostName = (entry: string) =>
  /^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])$/.test(entry);

/** True for names and addresses that reach only this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return (
    h === 'localhost' ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

export const taskQueue = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a task queue name (letters, digits, . _ -)')
    .default(fallback);

/** Keys, tokens, passwords, and URLs (which may carry credentials): never repeated in an error. */
const SECRET_NAME = /KEY|TOKEN|PASSWORD|SECRET|CREDENTIAL|_URL$/;

/** True when a variable's value may hold a secret and must not be echoed or logged. */
export const isSecretVariable = (name: string): boolean => SECRET_NAME.test(name);

/** Raised when the environment does not describe a usable configuration. */
export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];
  constructor(problems: { variable: string; message: string }[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The PostgreSQL driver's settings (see `createPgDriver`). */
export const pgFields = {
  PG_POOL_SIZE: positiveInt(20, 500),
  PG_STATEMENT_TIMEOUT_MS: positiveInt(5000, 600_000),
  PG_CONNECT_TIMEOUT_MS: positiveInt(3000, 60_000),
  PG_PREPARED_STATEMENTS: bool(true),
};
