import { AppError } from '../errors.ts';
import type { Memory, MemoryState } from '../ports/memory-records.ts';
import type { FilterScalar, RetrievalFilter } from '../ports/retrieval-filter.ts';

export type { FilterScalar, RetrievalFilter } from '../ports/retrieval-filter.ts';

/**
 * Bounds of one filter, so that no filter costs more to check than the search
 * it narrows: at most 16 metadata keys of up to 128 characters, up to 64
 * values per key (256 in all), strings of up to 512 characters, and up to 32
 * tags in each of `all` and `any`. Metadata values longer than a filter may
 * ask for are never matched.
 */
export const FILTER_LIMITS = {
  metadataKeys: 16,
  keyChars: 128,
  valuesPerKey: 64,
  values: 256,
  valueChars: 512,
  tags: 32,
} as const;

/** The state searches and contexts keep when the caller names none. */
export const DEFAULT_STATE: MemoryState = 'active';

/** True for the values a metadata filter can match: strings, finite numbers, booleans. */
export function isFilterScalar(value: unknown): value is FilterScalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * The term standing for "metadata key `key` holds `value`" in a vector
 * payload and in a filter: JSON of the pair, so types stay apart (`1` is not
 * `"1"`) and no key or value can run into another.
 */
export function metadataTerm(key: string, value: FilterScalar): string {
  return JSON.stringify([key, value]);
}

/**
 * The terms of a memory's metadata a filter can ask for: one per top-level
 * key holding a scalar within {@link FILTER_LIMITS}. Objects, arrays, null
 * and longer values have none, as no filter matches them.
 */
export function metadataTerms(metadata: Readonly<Record<string, unknown>> | undefined): string[] {
  const terms: string[] = [];
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (key.length > FILTER_LIMITS.keyChars || !isFilterScalar(value)) continue;
    if (typeof value === 'string' && value.length > FILTER_LIMITS.valueChars) continue;
    terms.push(metadataTerm(key, value));
  }
  return terms.sort();
}

/** The payload a memory's vector carries for filters (see `VectorRecord`). */
export function filterPayload(memory: Pick<Memory, 'tags' | 'metadata' | 'occurredAt' | 'state'>) {
  return {
    tags: memory.tags,
    metadata: memory.metadata,
    occurredAt: memory.occurredAt,
    state: memory.state,
  };
}

/** True when the memory passes every part of the filter. */
export function matchesFilter(
  memory: Pick<Memory, 'tags' | 'metadata' | 'occurredAt' | 'state'>,
  filter: RetrievalFilter,
): boolean {
  const { tagsAll, tagsAny, from, to, state, metadata } = filter;
  const at = memory.occurredAt.getTime();
  return (
    (state === undefined || memory.state === state) &&
    (from === undefined || at >= from.getTime()) &&
    (to === undefined || at < to.getTime()) &&
    (tagsAll === undefined || tagsAll.every((t) => memory.tags.includes(t))) &&
    (tagsAny === undefined || tagsAny.some((t) => memory.tags.includes(t))) &&
    Object.entries(metadata ?? {}).every(([key, values]) => {
      const held = Object.hasOwn(memory.metadata, key) ? memory.metadata[key] : undefined;
      return isFilterScalar(held) && values.some((v) => v === held);
    })
  );
}

/** True when the filter asks for more than a state: metadata, tags or a time range. */
export function narrowsBeyondState(filter: RetrievalFilter): boolean {
  return (
    filter.metadata !== undefined ||
    filter.tagsAll !== undefined ||
    filter.tagsAny !== undefined ||
    filter.from !== undefined ||
    filter.to !== undefined
  );
}

/**
 * A canonical text for the filter (keys, values and tags sorted, times as
 * ISO strings), for cache keys: two filters get the same text exactly when
 * they select the same memories by construction.
 */
export function filterKey(filter: RetrievalFilter): string {
  const sorted = (items: readonly string[] | undefined) =>
    items === undefined ? null : [...new Set(items)].sort();
  const metadata = filter.metadata
    ? Object.keys(filter.metadata)
        .sort()
        .map((key) => [key, sorted(filter.metadata![key]!.map((v) => JSON.stringify(v)))])
    : null;
  return JSON.stringify([
    filter.state ?? null,
    filter.from?.toISOString() ?? null,
    filter.to?.toISOString() ?? null,
    sorted(filter.tagsAll),
    sorted(filter.tagsAny),
    metadata,
  ]);
}

/** The older top-level fields of a search: `tags` (any of them), `from` and `to`. */
export interface FilterShorthands {
  tags?: readonly string[] | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * The filter a search or a context applies: `filter` with the shorthands
 * added (`tags` is `tagsAny`, `from` and `to` are themselves; the same part
 * given both ways is a `bad_request`), and the state {@link DEFAULT_STATE}
 * when none is named. An empty `tags` shorthand is no tag filter.
 */
export function effectiveFilter(
  filter: RetrievalFilter | undefined,
  shorthands: FilterShorthands = {},
): RetrievalFilter {
  const merged: RetrievalFilter = { ...filter, state: filter?.state ?? DEFAULT_STATE };
  const take = <K extends 'tagsAny' | 'from' | 'to'>(
    part: K,
    value: RetrievalFilter[K] | undefined,
    names: [string, string],
  ) => {
    if (value === undefined) return;
    if (filter?.[part] !== undefined) {
      throw new AppError('bad_request', `give ${names[0]} or ${names[1]}, not both`, {
        details: { field: names[1] },
      });
    }
    merged[part] = value;
  };
  const tags = shorthands.tags && shorthands.tags.length > 0 ? shorthands.tags : undefined;
  take('tagsAny', tags, ['tags', 'filters.tags.any']);
  take('from', shorthands.from, ['from', 'filters.from']);
  take('to', shorthands.to, ['to', 'filters.to']);
  return merged;
}
