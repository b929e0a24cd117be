import { AppError } from '../errors.ts';
import type { MemoryState } from '../ports/memory-records.ts';
import type { RetrievalFilter } from '../ports/retrieval-filter.ts';
import { FILTER_LIMITS, isFilterScalar } from './filters.ts';

const STATES: readonly MemoryState[] = ['active', 'archived'];

/**
 * Checks a filter's shape and bounds (`at` names it in errors), as every
 * store reads it: a `bad_request` for anything else.
 */
export function assertFilter(filter: unknown, at: string): asserts filter is RetrievalFilter {
  const fail = (field: string, message: string): never => {
    const name = field ? `${at}.${field}` : at;
    throw new AppError('bad_request', `${name} ${message}`, { details: { field: name } });
  };
  if (typeof filter !== 'object' || filter === null) fail('', 'must be an object');
  const f = filter as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!['metadata', 'tagsAll', 'tagsAny', 'from', 'to', 'state'].includes(key)) {
      fail(key, 'is not a filter field');
    }
  }
  for (const part of ['tagsAll', 'tagsAny'] as const) {
    const tags = f[part];
    if (tags === undefined) continue;
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
      fail(part, 'must be an array of strings');
    }
    if ((tags as string[]).length === 0 || (tags as string[]).length > FILTER_LIMITS.tags) {
      fail(part, `must hold 1 to ${FILTER_LIMITS.tags} tags`);
    }
  }
  for (const part of ['from', 'to'] as const) {
    const date = f[part];
    if (date !== undefined && !(date instanceof Date && Number.isFinite(date.getTime()))) {
      fail(part, 'must be a valid date');
    }
  }
  if (f.state !== undefined && !STATES.includes(f.state as MemoryState)) {
    fail('state', `must be one of ${STATES.join(', ')}`);
  }
  if (f.metadata !== undefined) assertMetadataFilter(f.metadata, (field, message) => fail(`metadata${field}`, message)); // prettier-ignore
}

function assertMetadataFilter(
  metadata: unknown,
  fail: (field: string, message: string) => never,
): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    fail('', 'must be an object');
  }
  const entries = Object.entries(metadata as Record<string, unknown>);
  if (entries.length > FILTER_LIMITS.metadataKeys) {
    fail('', `must name at most ${FILTER_LIMITS.metadataKeys} keys`);
  }
  let total = 0;
  for (const [key, values] of entries) {
    if (key.length === 0 || key.length > FILTER_LIMITS.keyChars) {
      fail('', `keys must have 1 to ${FILTER_LIMITS.keyChars} characters`);
    }
    if (!Array.isArray(values) || values.length === 0) {
      fail(`.${key}`, 'must be a non-empty array of values');
    }
    const list = values as unknown[];
    if (list.length > FILTER_LIMITS.valuesPerKey) {
      fail(`.${key}`, `must hold at most ${FILTER_LIMITS.valuesPerKey} values`);
    }
    total += list.length;
    for (const value of list) {
      if (!isFilterScalar(value)) fail(`.${key}`, 'must hold strings, finite numbers or booleans');
      if (typeof value === 'string' && value.length > FILTER_LIMITS.valueChars) {
        fail(`.${key}`, `must hold strings of at most ${FILTER_LIMITS.valueChars} characters`);
      }
    }
  }
  if (total > FILTER_LIMITS.values) fail('', `must hold at most ${FILTER_LIMITS.values} values`);
}
