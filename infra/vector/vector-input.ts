import { AppError } from '../../core/errors.ts';
import type { MemoryState } from '../../core/ports/memory-records.ts';
import type { VectorQuery, VectorRecord } from '../../core/ports/vector-index.ts';
import { assertFilter } from '../../core/retrieval/filter-checks.ts';
import { metadataTerm } from '../../core/retrieval/filters.ts';

// Input checks every vector adapter applies, so a bad call fails the same way on each.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks every record; for a repeated id the last record wins. */
export function checkedRecords(
  records: readonly VectorRecord[],
  dimension: number,
): VectorRecord[] {
  const byId = new Map<string, VectorRecord>();
  records.forEach((record, i) => {
    assertUuid(record.id, `records[${i}].id`);
    assertUuid(record.userId, `records[${i}].userId`);
    assertVector(record.vector, dimension, `records[${i}].vector`);
    assertTags(record.tags, `records[${i}].tags`);
    assertPayload(record, `records[${i}]`);
    byId.set(record.id.toLowerCase(), record);
  });
  return [...byId.values()];
}

/**
 * A query's filter as the adapters apply it (empty lists and nulls ask for
 * nothing): metadata keys asked for one value become terms every match
 * holds, keys asked for several become groups a match holds one term of.
 */
export interface CheckedFilter {
  tagsAll: string[];
  tagsAny: string[];
  termsAll: string[];
  termsAny: string[][];
  /** Event time bounds in epoch milliseconds: `from` inclusive, `to` exclusive. */
  fromMs: number | null;
  toMs: number | null;
  state: MemoryState | null;
}

/** Checks one search query (`at` names it in errors); returns its filter as adapters apply it. */
export function checkedQuery(query: VectorQuery, dimension: number, at: string): CheckedFilter {
  assertUuid(query.userId, `${at}.userId`);
  assertVector(query.vector, dimension, `${at}.vector`);
  assertLimit(query.limit, `${at}.limit`);
  const tags = query.tags === undefined ? [] : assertTags(query.tags, `${at}.tags`);
  const filter = query.filter ?? {};
  assertFilter(filter, `${at}.filter`);
  if (tags.length > 0 && filter.tagsAny !== undefined) {
    throw new AppError('bad_request', `${at}: give tags or filter.tagsAny, not both`, {
      details: { field: `${at}.tags` },
    });
  }
  const keys = Object.entries(filter.metadata ?? {}).map(([key, values]) => [
    ...new Set(values.map((v) => metadataTerm(key, v))),
  ]);
  return {
    tagsAll: [...new Set(filter.tagsAll ?? [])],
    tagsAny: [...new Set(filter.tagsAny ?? tags)],
    termsAll: keys.filter((terms) => terms.length === 1).flat(),
    termsAny: keys.filter((terms) => terms.length > 1),
    fromMs: filter.from?.getTime() ?? null,
    toMs: filter.to?.getTime() ?? null,
    state: filter.state ?? null,
  };
}

/** Checks a record's filter payload: metadata an object, a valid event time, a known state. */
function assertPayload(record: VectorRecord, at: string): void {
  const { metadata, occurredAt, state } = record;
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw new AppError('bad_request', `${at}.metadata must be an object`, {
      details: { field: `${at}.metadata` },
    });
  }
  if (
    occurredAt !== undefined &&
    !(occurredAt instanceof Date && Number.isFinite(occurredAt.getTime()))
  ) {
    throw new AppError('bad_request', `${at}.occurredAt must be a valid date`, {
      details: { field: `${at}.occurredAt` },
    });
  }
  if (state !== undefined && state !== 'active' && state !== 'archived') {
    throw new AppError('bad_request', `${at}.state must be active or archived`, {
      details: { field: `${at}.state` },
    });
  }
}

/** Checks the user and memory ids a delete or a vector lookup names. */
export function assertUserIds(userId: string, ids: readonly string[]): void {
  assertUuid(userId, 'userId');
  ids.forEach((id, i) => assertUuid(id, `ids[${i}]`));
}

/** Checks the arguments of one `listIds` page. */
export function assertIdPage(userId: string, limit: number, afterId: string | undefined): void {
  assertUuid(userId, 'userId');
  assertLimit(limit, 'limit');
  if (afterId !== undefined) assertUuid(afterId, 'afterId');
}

/** Throws `bad_request` unless `value` is a UUID string. */
export function assertUuid(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new AppError('bad_request', `${field} must be a UUID`, { details: { field } });
  }
}

/** Throws `bad_request` unless `vector` has `dimension` finite numbers, not all zero. */
export function assertVector(vector: unknown, dimension: number, field: string): void {
  if (!Array.isArray(vector) || vector.length !== dimension) {
    const got = Array.isArray(vector) ? `${vector.length} numbers` : typeof vector;
    throw new AppError('bad_request', `${field} must have ${dimension} dimensions, got ${got}`, {
      details: { field, expected: dimension },
    });
  }
  let nonZero = false;
  for (const x of vector) {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new AppError('bad_request', `${field} must hold finite numbers`, {
        details: { field },
      });
    }
    if (x !== 0) nonZero = true;
  }
  if (!nonZero) {
    throw new AppError('bad_request', `${field} is all zeros, which has no cosine direction`, {
      details: { field },
    });
  }
}

/** Throws `bad_request` unless `limit` is a positive integer. */
export function assertLimit(limit: unknown, field: string): void {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new AppError('bad_request', `${field} must be a positive integer`, {
      details: { field },
    });
  }
}

/** Throws `bad_request` unless `tags` is an array of strings; returns it. */
export function assertTags(tags: unknown, field: string): string[] {
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new AppError('bad_request', `${field} must be an array of strings`, {
      details: { field },
    });
  }
  return tags as string[];
}
