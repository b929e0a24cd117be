import { AppError } from '../../core/errors.ts';
import type { VectorQuery, VectorRecord } from '../../core/ports/vector-index.ts';

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
    byId.set(record.id.toLowerCase(), record);
  });
  return [...byId.values()];
}

/** Checks one search query (`at` names it in errors); returns its tags, empty for no tag filter. */
export function checkedQuery(query: VectorQuery, dimension: number, at: string): string[] {
  assertUuid(query.userId, `${at}.userId`);
  assertVector(query.vector, dimension, `${at}.vector`);
  assertLimit(query.limit, `${at}.limit`);
  return query.tags === undefined ? [] : assertTags(query.tags, `${at}.tags`);
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
