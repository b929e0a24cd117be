import type { RetrievalFilter } from '../../core/ports/retrieval-filter.ts';

/**
 * A filter as the SQL of {@link filterSql} reads it, as JSON: only the parts
 * that ask for something, times as ISO strings, metadata values as JSON
 * values (compared with jsonb equality, which keeps types apart as
 * `metadataTerm` does).
 */
export function filterJson(filter: RetrievalFilter | undefined): Record<string, unknown> {
  if (!filter) return {};
  const { metadata, tagsAll, tagsAny, from, to, state } = filter;
  return {
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(tagsAll ? { tagsAll } : {}),
    ...(tagsAny ? { tagsAny } : {}),
    ...(from ? { from: from.toISOString() } : {}),
    ...(to ? { to: to.toISOString() } : {}),
    ...(state ? { state } : {}),
  };
}

/**
 * SQL true for a memory (table alias `m`) that passes the filter held by the
 * jsonb expression `f` (see {@link filterJson}), apart from its state, which
 * callers check with their own default. A metadata key the memory lacks, or
 * holds as an object, array or null, matches no value.
 */
export function filterSql(f: string, m = 'm'): string {
  return `(NOT (${f} ? 'tagsAll') OR ${m}.tags @> ARRAY(SELECT jsonb_array_elements_text(${f} -> 'tagsAll')))
    AND (NOT (${f} ? 'tagsAny') OR ${m}.tags && ARRAY(SELECT jsonb_array_elements_text(${f} -> 'tagsAny')))
    AND (NOT (${f} ? 'from') OR ${m}.occurred_at >= (${f} ->> 'from')::timestamptz)
    AND (NOT (${f} ? 'to') OR ${m}.occurred_at < (${f} ->> 'to')::timestamptz)
    AND (NOT (${f} ? 'metadata') OR NOT EXISTS (
      SELECT 1 FROM jsonb_each(${f} -> 'metadata') AS k(key, vals)
      WHERE NOT EXISTS (
        SELECT 1 FROM jsonb_array_elements(k.vals) AS v(val) WHERE ${m}.metadata -> k.key = v.val)))`;
}

/** SQL for the state the filter in `f` asks for, `active` when it names none. */
export const filterStateSql = (f: string): string => `coalesce(${f} ->> 'state', 'active')`;
