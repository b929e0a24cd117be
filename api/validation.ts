import type { z } from 'zod';
import { AppError } from '../core/errors.ts';

/** How a path key is written into `details.issues`; REST keeps array indexes as numbers. */
type PathKey = (key: PropertyKey) => unknown;

/** One problem with a request value: where it is (below the request part) and what is wrong. */
export interface InputIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * How deep any request value may nest (objects and arrays). No schema of the
 * API needs more than a handful of levels; the bound keeps validation,
 * serialisation and the database's JSON functions far from their recursion
 * limits whatever a client sends.
 */
export const MAX_INPUT_DEPTH = 32;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
// No nested quantifier: one pass over the string.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` may not be stored or compared, or null when it is fine. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate';
  return null;
}

/**
 * The text rule, applied to every value a client sends before any schema
 * reads it: every string, and every object key, at any depth, must be free of
 * NUL characters and lone surrogates (PostgreSQL refuses both, and one bad
 * value in a batched statement would fail the other users' queries in it);
 * values may nest at most {@link MAX_INPUT_DEPTH} levels. Iterative, so a
 * deep value cannot overflow the stack. Returns the first problems found.
 */
export function textIssues(value: unknown, limit = 5): InputIssue[] {
  const issues: InputIssue[] = [];
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value, path: [] }];
  while (stack.length > 0 && issues.length < limit) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) issues.push({ path, message: problem });
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= MAX_INPUT_DEPTH) {
      issues.push({ path, message: `expected at most ${MAX_INPUT_DEPTH} levels of nesting` });
      continue;
    }
    const entries: [PropertyKey, unknown][] = Array.isArray(current)
      ? current.map((item, i) => [i, item])
      : Object.entries(current);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const keyProblem = typeof key === 'string' ? textProblem(key) : null;
      // The key itself is not echoed: it is the bad text.
      if (keyProblem) issues.push({ path, message: `has a key that ${keyProblem}` });
      else stack.push({ value: item, path: [...path, key] });
    }
  }
  return issues.slice(0, limit);
}

function refuse(where: string, issues: readonly InputIssue[], pathKey: PathKey): never {
  const describe = (i: InputIssue) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`;
  throw new AppError('bad_request', issues.slice(0, 5).map(describe).join('; '), {
    details: {
      issues: issues.map((i) => ({ path: [where, ...i.path.map(pathKey)], message: i.message })),
    },
  });
}

/**
 * Validates input at an edge: the parsed value, or a `bad_request` whose
 * message names the first five bad fields (`body.content: expected …`,
 * `arguments.content: expected …`) and whose details list every issue. The
 * text rule ({@link textIssues}) runs first, so no schema (and no store)
 * ever sees a NUL, a lone surrogate or a runaway nesting.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  value: unknown,
  where: string,
  pathKey: PathKey = (key) => key,
): T {
  const bad = textIssues(value);
  if (bad.length > 0) refuse(where, bad, pathKey);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  refuse(where, result.error.issues, pathKey);
}
