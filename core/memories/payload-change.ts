import type { Memory } from '../ports/relational-store.ts';
import { metadataTerms } from '../retrieval/filters.ts';

/** The fields of a memory its vectors carry for filters (see `filterPayload`). */
export type FilterFields = Pick<Memory, 'tags' | 'metadata' | 'state' | 'occurredAt'>;

/**
 * Whether a change from `before` to `after` changes what a vector payload
 * holds for filters: the tags (in order), the metadata terms a filter can
 * match, the state or the event time. Such a change is a new revision to
 * index, or the payload keeps answering filters with the old values.
 */
export function filterPayloadChanged(before: FilterFields, after: FilterFields): boolean {
  return (
    after.tags.join('\u0000') !== before.tags.join('\u0000') ||
    metadataTerms(after.metadata).join('\u0000') !==
      metadataTerms(before.metadata).join('\u0000') ||
    after.state !== before.state ||
    after.occurredAt.getTime() !== before.occurredAt.getTime()
  );
}
