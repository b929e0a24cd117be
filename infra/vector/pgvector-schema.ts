import { AppError } from '../../core/errors.ts';
import type { SqlDriver } from '../db/sql-driver.ts';

// An arbitrary constant: every process creating the vector schema takes this lock.
const SCHEMA_LOCK_ID = 7_342_118_902;

/**
 * Creates (idempotently) the pgvector extension, the vector table with its
 * user_id and HNSW indexes, and the per-query search function `searchFn`.
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
      updated_at timestamptz NOT NULL DEFAULT now()
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
    await tx.query(`CREATE INDEX IF NOT EXISTS ${table}_user_id ON ${table} (user_id, id)`);
    await tx.query(
      `CREATE INDEX IF NOT EXISTS ${table}_hnsw ON ${table} USING hnsw (embedding vector_cosine_ops)`,
    );
    await tx.query(searchFunctionSql(table, searchFn));
  });
}

/**
 * One query's search, in the database so a batch is one statement. The SET
 * clauses scope the GUCs to the call, so a pooled connection never keeps them.
 * The HNSW query is planned per call (EXECUTE) so it sees `enable_sort = off`,
 * which keeps the planner on the HNSW index for users whose vectors it would
 * otherwise sort from the user_id index.
 */
function searchFunctionSql(table: string, searchFn: string): string {
  return `
CREATE OR REPLACE FUNCTION ${searchFn}(
  p_user uuid, p_query vector, p_limit integer, p_tags text[], p_exact_max integer
) RETURNS TABLE (hit_id uuid, hit_distance double precision)
LANGUAGE plpgsql
SET hnsw.iterative_scan = 'relaxed_order'
SET hnsw.ef_search = '40'
SET enable_sort = 'on'
AS $fn$
DECLARE
  eligible integer;
  ids uuid[];
  distances double precision[];
BEGIN
  SELECT count(*) INTO eligible FROM (
    SELECT 1 FROM ${table} v
    WHERE v.user_id = p_user AND (p_tags IS NULL OR v.tags && p_tags)
    LIMIT p_exact_max + 1
  ) AS s;
  IF eligible > p_exact_max THEN
    PERFORM set_config('hnsw.ef_search', least(greatest(p_limit, 40), 1000)::text, true);
    PERFORM set_config('enable_sort', 'off', true);
    EXECUTE 'SELECT array_agg(r.id ORDER BY r.distance, r.id),
                    array_agg(r.distance ORDER BY r.distance, r.id)
             FROM (SELECT v.id, v.embedding <=> $2 AS distance FROM ${table} v
                   WHERE v.user_id = $1 AND ($4 IS NULL OR v.tags && $4)
                   ORDER BY v.embedding <=> $2 LIMIT $3) AS r'
      INTO ids, distances USING p_user, p_query, p_limit, p_tags;
    PERFORM set_config('enable_sort', 'on', true);
    IF coalesce(cardinality(ids), 0) >= p_limit THEN
      RETURN QUERY SELECT u.id, u.distance FROM unnest(ids, distances) AS u(id, distance);
      RETURN;
    END IF;
  END IF;
  RETURN QUERY
    WITH mine AS MATERIALIZED (
      SELECT v.id, v.embedding <=> p_query AS distance FROM ${table} v
      WHERE v.user_id = p_user AND (p_tags IS NULL OR v.tags && p_tags)
    )
    SELECT m.id, m.distance FROM mine m ORDER BY m.distance, m.id LIMIT p_limit;
END
$fn$`;
}
