import { AppError } from '../../core/errors.ts';
import type { TextHit, TextQuery } from '../../core/ports/relational-store.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { filterJson, filterSql, filterStateSql } from './sql-filter.ts';
import { isUuid, liveSql } from './sql-rows.ts';

// Okapi BM25's usual constants: term-frequency saturation and length normalisation.
const K1 = 1.2;
const B = 0.75;
/** Distinct query terms kept: a pasted essay must not become a 500-way OR. */
const MAX_TERMS = 32;
const MAX_LIMIT = 1000;
/**
 * Users with at most this many memories are searched by reading their rows
 * (found by user id) and matching each: the full-text index's lists hold every
 * user's memories, so on a shared store a common word's list is the whole
 * store's (5,240 rows for one query of a 100,000-memory store: 7 ms against
 * 1.7 ms reading the user's 100). Larger users go through the index.
 */
export const SCAN_MAX = 1000;
/** The filter of the request in hand: `$5` holds every query's, by index. */
const FILTER = '($5::jsonb -> r.i)';

/**
 * The user's memories matching the query's terms and filter, when `when`
 * holds (a one-time filter: the other branch is not run), matching `tsv`:
 * the column itself can use the full-text index, an expression of it cannot.
 */
const candidates = (when: string, tsv: string) => `
    SELECT m.id, m.search_tsv FROM memories m CROSS JOIN tq
    WHERE ${when} AND m.user_id = r.user_id
      AND m.state = ${filterStateSql(FILTER)} AND ${liveSql('m')}
      AND ${tsv} @@ tq.query
      AND ${filterSql(FILTER)}`;

/**
 * BM25 over the `search_tsv` column, for several queries in one statement.
 * Each query's terms are stemmed with the same English configuration as the
 * column and OR-ed into a tsquery (the GIN index finds the candidates of a
 * user with more than {@link SCAN_MAX} memories; `|| ''::tsvector` keeps a
 * smaller user's match off the index, see there). Every
 * memory of the user that contains a term and passes the query's filter
 * (its tags, metadata, event time and state, `active` unless it names one)
 * is a candidate, so the candidates alone give each term's document
 * frequency; the user's memories in that state give N and the average length
 * (in distinct terms); expired memories count nowhere. Scores are computed in
 * SQL, so only ids and scores come back.
 */
const SEARCH_SQL = `
WITH req AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::int[]) AS r(i, user_id, query, lim)
)
SELECT r.i, h.id, h.score FROM req r CROSS JOIN LATERAL (
  WITH q AS (
    SELECT DISTINCT u.lexeme FROM unnest(to_tsvector('english', r.query)) u LIMIT ${MAX_TERMS}
  ), tq AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query FROM q
  ), few AS (
    SELECT count(*) <= ${SCAN_MAX} AS yes
    FROM (SELECT 1 FROM memories WHERE user_id = r.user_id LIMIT ${SCAN_MAX + 1}) s
  ), cand AS (
    ${candidates('(SELECT yes FROM few)', "(m.search_tsv || ''::tsvector)")}
    UNION ALL
    ${candidates('NOT (SELECT yes FROM few)', 'm.search_tsv')}
  ), terms AS (
    SELECT c.id, u.lexeme, cardinality(u.positions) AS tf, length(c.search_tsv) AS dl
    FROM cand c CROSS JOIN unnest(c.search_tsv) u
    WHERE u.lexeme IN (SELECT lexeme FROM q)
  ), df AS (
    SELECT lexeme, count(*) AS df FROM terms GROUP BY lexeme
  ), stats AS (
    SELECT count(*) AS n, GREATEST(avg(length(search_tsv)), 1) AS avgdl
    FROM memories WHERE user_id = r.user_id AND state = ${filterStateSql(FILTER)} AND ${liveSql()}
  )
  SELECT t.id, sum(
      ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5))
      * t.tf * ${K1 + 1} / (t.tf + ${K1} * (${1 - B} + ${B} * t.dl / s.avgdl))
    )::float8 AS score
  FROM terms t JOIN df d USING (lexeme) CROSS JOIN stats s
  GROUP BY t.id
  ORDER BY score DESC, t.id
  LIMIT r.lim
) h
ORDER BY r.i, h.score DESC, h.id`;

/** Runs {@link SEARCH_SQL} for a batch; queries for unknown user ids find nothing. */
export async function searchText(
  db: SqlExecutor,
  queries: readonly TextQuery[],
): Promise<TextHit[][]> {
  const results: TextHit[][] = queries.map(() => []);
  const runnable = queries
    .map((q, i) => ({ ...q, i }))
    .filter((q) => isUuid(q.userId) && q.limit > 0 && q.query.trim().length > 0);
  if (runnable.length === 0) return results;
  const rows = await db.query<{ i: number; id: string; score: number }>(SEARCH_SQL, [
    runnable.map((q) => q.i),
    runnable.map((q) => q.userId),
    runnable.map((q) => q.query),
    runnable.map((q) => Math.min(Math.floor(q.limit), MAX_LIMIT)),
    JSON.stringify(queries.map(textFilter)),
  ]);
  for (const row of rows) {
    results[Number(row.i)]!.push({ id: String(row.id), score: Number(row.score) });
  }
  return results;
}

/** A query's filter as {@link filterSql} reads it: the `tags` shorthand is `tagsAny`. */
function textFilter(query: TextQuery): Record<string, unknown> {
  const filter = filterJson(query.filter);
  if (!query.tags || query.tags.length === 0) return filter;
  if (filter.tagsAny !== undefined) {
    throw new AppError('bad_request', 'give tags or filter.tagsAny, not both', {
      details: { field: 'tags' },
    });
  }
  return { ...filter, tagsAny: query.tags };
}
