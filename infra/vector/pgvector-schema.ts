import { AppError } from '../../core/errors.ts';
import type { SqlDriver } from '../db/sql-driver.ts';
import { addFilterPayload, FILTER_COLUMNS_SQL } from './pgvector-payload.ts';

// An arbitrary constant: every process creating the vector schema takes this lock.
const SCHEMA_LOCK_ID = 7_342_118_902;

/**
 * Creates (idempotently) the pgvector extension, the vector table with its
 * user_id, HNSW and filter (metadata terms, tags) indexes, and the per-query
 * search function `searchFn`.
 * Fails when pgvector is older than 0.8 or the table holds another dimension.
 */
export async function createPgvectorSchema(
  driver: SqlDriver,
  table: string,
  searchFn: string,
  dimension: number,
): Promise<void> {
  await driver.transaction(async (tx) => {
    // Several processes may start at once; CREATE ... IF NOT EXISTS alone still races.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_ID]);
    await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
    const [ext] = await tx.query<{ version: string }>(
      `SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'`,
    );
    const [major = 0, minor = 0] = (ext?.version ?? '0').split('.').map(Number);
    if (major === 0 && minor < 8) {
      throw new AppError(
        'dependency_unavailable',
        `pgvector ${ext?.version ?? '?'} lacks hnsw.iterative_scan: upgrade it to 0.8 or later ` +
          `(ALTER EXTENSION vector UPDATE)`,
      );
    }
    await tx.query(`CREATE TABLE IF NOT EXISTS ${table} (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      tags text[] NOT NULL DEFAULT '{}',
      embedding vector(${dimension}) NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      ${FILTER_COLUMNS_SQL}
    )`);
    const [column] = await tx.query<{ type: string }>(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = $1::regclass AND attname = 'embedding'`,
      [table],
    );
    if (column?.type !== `vector(${dimension})`) {
      throw new AppError(
        'bad_request',
        `table ${table} holds ${column?.type ?? 'no embedding column'}, not vector(${dimension})`,
      );
    }
    await addFilterPayload(tx, table);
    await tx.query(`CREATE INDEX IF NOT EXISTS ${table}_user_id ON ${table} (user_id, id)`);
    // A selective metadata or tag filter finds its few rows through these instead of reading
    // every row of the user (measured: 2-3x faster counts and exact scans at 0.3-10 %).
    await tx.query(`CREATE INDEX IF NOT EXISTS ${table}_meta ON ${table} USING gin (meta)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS ${table}_tags ON ${table} USING gin (tags)`);
    await tx.query(
      `CREATE INDEX IF NOT EXISTS ${table}_hnsw ON ${table} USING hnsw (embedding vector_cosine_ops)`,
    );
    // The search function took a tag array before filters: its old signature goes.
    await tx.query(`DROP FUNCTION IF EXISTS ${searchFn}(uuid, vector, integer, text[], integer)`);
    await tx.query(searchFunctionSql(table, searchFn));
  });
}

/** Eligible vectors up to which a search is always exact, whatever their share of the table. */
const HNSW_MIN_ELIGIBLE = 1000;
/** The share of the table's vectors above which a user's eligible ones go through HNSW. */
const HNSW_MIN_SHARE = 0.25;

/**
 * One query's search, in the database so a batch is one statement. The SET
 * clauses scope the GUCs to the call, so a pooled connection never keeps them.
 *
 * The filter (`p_filter`, see `CheckedFilter`) becomes literal conditions in
 * statements planned per call (EXECUTE), so the planner sees each filter's
 * real selectivity; a search with no filter but the state (the default one)
 * counts and scans exactly through static statements instead, which the
 * server plans once per connection. The user's eligible vectors (passing the filter) are
 * counted up to a bound: up to it they are scanned exactly, which never
 * misses however selective the filter; above it the HNSW index is read with
 * iterative scan, which keeps reading the graph until `p_limit` vectors
 * passed the filter (or `hnsw.max_scan_tuples`, when the exact scan answers
 * instead). The bound is `p_exact_max`, lowered by the planner's estimate of
 * the table's rows to a quarter of them (at least {@link HNSW_MIN_ELIGIBLE}):
 * when that many of all vectors pass, the graph walk meets one every few
 * steps and beats reading thousands of rows (with 10,000 vectors, a filter
 * passing 40 % cost 20 ms exact against 4 ms through HNSW). The HNSW query
 * sees `enable_sort = off`, which keeps the planner on the HNSW index for
 * users whose vectors it would otherwise sort from the user_id index.
 */
function searchFunctionSql(table: string, searchFn: string): string {
  return `
CREATE OR REPLACE FUNCTION ${searchFn}(
  p_user uuid, p_query vector, p_limit integer, p_filter jsonb, p_exact_max integer
) RETURNS TABLE (hit_id uuid, hit_distance double precision)
LANGUAGE plpgsql
SET hnsw.iterative_scan = 'relaxed_order'
SET hnsw.ef_search = '40'
SET enable_sort = 'on'
AS $fn$
DECLARE
  eligible integer;
  exact_max integer := p_exact_max;
  table_rows real;
  ids uuid[];
  distances double precision[];
  cond text := '';
  grp jsonb;
BEGIN
  IF jsonb_array_length(coalesce(p_filter->'tagsAll', '[]')) > 0 THEN
    cond := cond || format(' AND v.tags @> %L::text[]',
      ARRAY(SELECT jsonb_array_elements_text(p_filter->'tagsAll')));
  END IF;
  IF jsonb_array_length(coalesce(p_filter->'tagsAny', '[]')) > 0 THEN
    cond := cond || format(' AND v.tags && %L::text[]',
      ARRAY(SELECT jsonb_array_elements_text(p_filter->'tagsAny')));
  END IF;
  IF jsonb_array_length(coalesce(p_filter->'termsAll', '[]')) > 0 THEN
    cond := cond || format(' AND v.meta @> %L::text[]',
      ARRAY(SELECT jsonb_array_elements_text(p_filter->'termsAll')));
  END IF;
  FOR grp IN SELECT jsonb_array_elements(coalesce(p_filter->'termsAny', '[]')) LOOP
    cond := cond || format(' AND v.meta && %L::text[]', ARRAY(SELECT jsonb_array_elements_text(grp)));
  END LOOP;
  IF p_filter->>'from' IS NOT NULL THEN
    cond := cond || format(' AND v.occurred_at >= %L::timestamptz', p_filter->>'from');
  END IF;
  IF p_filter->>'to' IS NOT NULL THEN
    cond := cond || format(' AND v.occurred_at < %L::timestamptz', p_filter->>'to');
  END IF;
  -- Counting reads the state only when it asks for the archived few: 'active' (nearly
  -- every vector, and every search's default) would turn an index-only count into heap reads.
  IF p_filter->>'state' = 'archived' THEN
    cond := cond || ' AND v.state = ''archived''';
  END IF;
  SELECT c.reltuples INTO table_rows FROM pg_class c WHERE c.oid = '${table}'::regclass;
  IF table_rows > 0 THEN
    exact_max := least(p_exact_max,
      greatest(${HNSW_MIN_ELIGIBLE}, ceil(table_rows * ${HNSW_MIN_SHARE})::int));
  END IF;
  -- No filter but the default state: static statements, planned once per connection,
  -- where EXECUTE would parse and plan two statements on every search.
  IF cond = '' AND coalesce(p_filter->>'state', 'active') = 'active' THEN
    SELECT count(*)::int INTO eligible FROM (
      SELECT 1 FROM ${table} v WHERE v.user_id = p_user LIMIT exact_max + 1) AS s;
    IF eligible BETWEEN 1 AND exact_max THEN
      RETURN QUERY WITH mine AS MATERIALIZED (
          SELECT v.id, v.embedding <=> p_query AS distance FROM ${table} v
          WHERE v.user_id = p_user AND (p_filter->>'state' IS NULL OR v.state = 'active')
        )
        SELECT m.id, m.distance FROM mine m ORDER BY m.distance, m.id LIMIT p_limit;
      RETURN;
    END IF;
  ELSE
    EXECUTE format('SELECT count(*)::int FROM (
        SELECT 1 FROM ${table} v WHERE v.user_id = $1%s LIMIT $2) AS s', cond)
      INTO eligible USING p_user, exact_max + 1;
  END IF;
  IF p_filter->>'state' = 'active' THEN
    cond := cond || ' AND v.state = ''active''';
  END IF;
  IF eligible = 0 THEN
    RETURN;
  END IF;
  IF eligible > exact_max THEN
    PERFORM set_config('hnsw.ef_search', least(greatest(p_limit, 40), 1000)::text, true);
    PERFORM set_config('enable_sort', 'off', true);
    EXECUTE format('SELECT array_agg(r.id ORDER BY r.distance, r.id),
                    array_agg(r.distance ORDER BY r.distance, r.id)
             FROM (SELECT v.id, v.embedding <=> $2 AS distance FROM ${table} v
                   WHERE v.user_id = $1%s
                   ORDER BY v.embedding <=> $2 LIMIT $3) AS r', cond)
      INTO ids, distances USING p_user, p_query, p_limit;
    PERFORM set_config('enable_sort', 'on', true);
    IF coalesce(cardinality(ids), 0) >= p_limit THEN
      RETURN QUERY SELECT u.id, u.distance FROM unnest(ids, distances) AS u(id, distance);
      RETURN;
    END IF;
  END IF;
  RETURN QUERY EXECUTE format('WITH mine AS MATERIALIZED (
      SELECT v.id, v.embedding <=> $2 AS distance FROM ${table} v WHERE v.user_id = $1%s
    )
    SELECT m.id, m.distance FROM mine m ORDER BY m.distance, m.id LIMIT $3', cond)
    USING p_user, p_query, p_limit;
END
$fn$`;
}
