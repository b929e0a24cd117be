import type { z } from 'zod';
import { AppError } from '../core/errors.ts';

/** How a path key is written into `details.issues`; REST keeps array indexes as numbers. */
type PathKey = (key: PropertyKey) => unknown;

function describeIssue(where: string, issue: z.core.$ZodIssue): string {
  return `${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`;
}

/**
 * Validates input at an edge: the parsed value, or a `bad_request` whose
 * message names the first five bad fields (`body.content: expected …`,
 * `arguments.content: expected …`) and whose details list every issue.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  value: unknown,
  where: string,
  pathKey: PathKey = (key) => key,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((i) => describeIssue(where, i));
  throw new AppError('bad_request', issues.join('; '), {
    details: {
      issues: result.error.issues.map((i) => ({
        path: [where, ...i.path.map(pathKey)],
        message: i.message,
      })),
    },
  });
}
