import type { Schemas } from '@qdrant/js-client-rest';
import type { VectorRecord } from '../../core/ports/vector-index.ts';
import { metadataTerms } from '../../core/retrieval/filters.ts';
import type { CheckedFilter } from './vector-input.ts';

/**
 * The payload fields filters read, with their index types: indexed, so a
 * filter narrows inside the tenant's HNSW graph instead of checking every
 * candidate's payload. `tags` and `meta` (metadata terms, see
 * `metadataTerms`) are keywords, the state too, the event time an integer
 * (epoch milliseconds) with range lookups.
 */
export const FILTER_INDEXES = [
  ['tags', 'keyword'],
  ['meta', 'keyword'],
  ['state', 'keyword'],
  ['occurred_at', { type: 'integer', lookup: false, range: true }],
] as const;

/** A record's filter payload, beside its `user_id`. */
export function filterPayload(record: VectorRecord): Record<string, unknown> {
  return {
    tags: [...record.tags],
    meta: metadataTerms(record.metadata),
    // Epoch milliseconds: an integer range is exact where datetimes round to microseconds.
    ...(record.occurredAt ? { occurred_at: record.occurredAt.getTime() } : {}),
    state: record.state ?? 'active',
  };
}

/**
 * A query's filter as Qdrant conditions, inside the user's partition: every
 * `all` tag and term is its own `match`, each `any` list one `match any`, the
 * event time an integer range. A point written before filters has no state
 * and counts as active, as in pgvector (its column default).
 */
export function payloadFilter(userId: string, filter: CheckedFilter): Schemas['Filter'] {
  const must: Schemas['Condition'][] = [{ key: 'user_id', match: { value: userId } }];
  for (const tag of filter.tagsAll) must.push({ key: 'tags', match: { value: tag } });
  if (filter.tagsAny.length > 0) must.push({ key: 'tags', match: { any: filter.tagsAny } });
  for (const term of filter.termsAll) must.push({ key: 'meta', match: { value: term } });
  for (const terms of filter.termsAny) must.push({ key: 'meta', match: { any: terms } });
  if (filter.fromMs !== null || filter.toMs !== null) {
    must.push({
      key: 'occurred_at',
      range: {
        ...(filter.fromMs !== null ? { gte: filter.fromMs } : {}),
        ...(filter.toMs !== null ? { lt: filter.toMs } : {}),
      },
    });
  }
  if (filter.state === 'archived') must.push({ key: 'state', match: { value: 'archived' } });
  return filter.state === 'active'
    ? { must, must_not: [{ key: 'state', match: { value: 'archived' } }] }
    : { must };
}
