import type { TextHit, TextQuery } from '../../core/ports/relational-store.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { isUuid, liveSql } from './sql-rows.ts';

// Okapi BM25's usual constants: term-frequency saturation and length normalisation.
const K1 = 1.2;
const B = 0.75;
/** Distinct query terms kept: a pasted essay must not become a 500-way OR. */
const MAX_TERMS = 32;
const MAX_LIMIT = 1000;

/**
 * BM25 over the `search_tsv` column, for several queries in one statement.
 * Each query's terms are stemmed with the same English configuration as the
 * column and OR-ed into a tsquery (the GIN index finds the candidates). Every
 * memory of the user that contains a term is a candidate, so the candidates
 * alone give each term's document frequency; the user's active memories give
 * N and the average length (in distinct terms); expired memories count
 * nowhere. Scores are computed in SQL, so only ids and scores come back.
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
  ), wanted AS (
    SELECT ARRAY(SELECT jsonb_array_elements_text($5::jsonb -> r.i)) AS tags
    WHERE jsonb_typeof($5::jsonb -> r.i) = 'array'
  ), cand AS (
    SELECT m.id, m.search_tsv FROM memories m CROSS JOIN tq
    WHERE m.user_id = r.user_id AND m.state = 'active' AND ${liveSql('m')}
      AND m.search_tsv @@ tq.query
      AND (NOT EXISTS (SELECT 1 FROM wanted) OR m.tags && (SELECT tags FROM wanted))
  ), terms AS (
    SELECT c.id, u.lexeme, cardinality(u.positions) AS tf, length(c.search_tsv) AS dl
    FROM cand c CROSS JOIN unnest(c.search_tsv) u
    WHERE u.lexeme IN (SELECT lexeme FROM q)
  ), df AS (
    SELECT lexeme, count(*) AS df FROM terms GROUP BY lexeme
  ), stats AS (
    SELECT count(*) AS n, GREATEST(avg(length(search_tsv)), 1) AS avgdl
    FROM memories WHERE user_id = r.user_id AND state = 'active' AND ${liveSql()}
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
    JSON.stringify(queries.map((q) => (q.tags && q.tags.length > 0 ? q.tags : null))),
  ]);
  for (const row of rows) {
    results[Number(row.i)]!.push({ id: String(row.id), score: Number(row.score) });
  }
  return results;
}
