import { importAndExport } from './migration-import-export.ts';
import { dataVersionNotify, narrativeNotify } from './migration-notify.ts';
import type { SqlDriver } from './sql-driver.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as ordered, append-only steps. The same SQL runs on PGlite and
 * on PostgreSQL 15+; never edit a step that has shipped, add a new one.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'users-memories-narratives',
    sql: `
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        name text,
        data_version bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_active_at timestamptz
      );
      CREATE TABLE memories (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        content text NOT NULL,
        content_hash text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'archived')),
        index_state text NOT NULL DEFAULT 'pending'
          CHECK (index_state IN ('pending', 'indexed', 'failed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, content_hash)
      );
      CREATE INDEX memories_user_recent ON memories (user_id, created_at DESC, id DESC);
      CREATE TABLE narratives (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        version integer NOT NULL,
        content text NOT NULL,
        data_version bigint NOT NULL,
        model text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, version)
      );
      CREATE TABLE self_checks (
        id uuid PRIMARY KEY,
        workflow_id text NOT NULL UNIQUE,
        note text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: 'graph-tables',
    // The graph store's tables (infra/graph/sql-graph-store.ts). Entities are
    // per user and keyed by their normalised name. Mentions and relations
    // belong to one memory of the same user (the composite key on memories
    // makes that a constraint) and go with it; entities go with their user.
    sql: `
      CREATE UNIQUE INDEX memories_user_id_id ON memories (user_id, id);
      CREATE TABLE graph_entities (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        type text NOT NULL,
        PRIMARY KEY (user_id, key)
      );
      CREATE TABLE graph_mentions (
        user_id uuid NOT NULL,
        memory_id uuid NOT NULL,
        entity_key text NOT NULL,
        PRIMARY KEY (user_id, memory_id, entity_key),
        FOREIGN KEY (user_id, memory_id) REFERENCES memories (user_id, id) ON DELETE CASCADE,
        FOREIGN KEY (user_id, entity_key) REFERENCES graph_entities (user_id, key)
          ON DELETE CASCADE
      );
      CREATE INDEX graph_mentions_entity ON graph_mentions (user_id, entity_key);
      CREATE TABLE graph_relations (
        user_id uuid NOT NULL,
        memory_id uuid NOT NULL,
        from_key text NOT NULL,
        to_key text NOT NULL,
        type text NOT NULL,
        PRIMARY KEY (user_id, memory_id, from_key, to_key, type),
        FOREIGN KEY (user_id, memory_id) REFERENCES memories (user_id, id) ON DELETE CASCADE,
        FOREIGN KEY (user_id, from_key) REFERENCES graph_entities (user_id, key)
          ON DELETE CASCADE,
        FOREIGN KEY (user_id, to_key) REFERENCES graph_entities (user_id, key)
          ON DELETE CASCADE
      );
      CREATE INDEX graph_relations_from ON graph_relations (user_id, from_key);
      CREATE INDEX graph_relations_to ON graph_relations (user_id, to_key);
    `,
  },
  {
    version: 3,
    name: 'api-keys-and-durable-indexing',
    // Revisions let indexing record exactly which edit it indexed (and count
    // passes, so "indexed exactly once" is checkable); tombstones carry a
    // delete to the indexes even if the process dies right after the commit.
    sql: `
      ALTER TABLE memories ADD COLUMN revision integer NOT NULL DEFAULT 1;
      ALTER TABLE memories ADD COLUMN indexed_revision integer NOT NULL DEFAULT 0;
      ALTER TABLE memories ADD COLUMN index_count integer NOT NULL DEFAULT 0;
      CREATE INDEX memories_unindexed ON memories (updated_at) WHERE index_state = 'pending';
      CREATE INDEX memories_tags ON memories USING gin (tags);
      CREATE TABLE memory_tombstones (
        memory_id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        deleted_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      );
      CREATE INDEX api_keys_user ON api_keys (user_id);
    `,
  },
  {
    version: 4,
    name: 'cached-plans',
    // The plan cache's L3 (infra/db/sql-plan-cache-queries.ts). Keys carry the
    // user's data version, so rows are never updated in place on a change;
    // expired rows are skipped on read and purged in batches by expires_at.
    // The user index keeps deleting a user from scanning the whole cache.
    sql: `
      CREATE TABLE cached_plans (
        key text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        value jsonb NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX cached_plans_expires_at ON cached_plans (expires_at);
      CREATE INDEX cached_plans_user ON cached_plans (user_id);
    `,
  },
  {
    version: 5,
    name: 'full-text-search',
    // Lexical retrieval beside the vector index (infra/db/sql-text-search.ts):
    // English stemming with stop words dropped, kept in step with the content
    // by PostgreSQL itself, and a GIN index for the "any query term" match.
    sql: `
      ALTER TABLE memories ADD COLUMN search_tsv tsvector
        GENERATED ALWAYS AS (to_tsvector('english', content)) STORED;
      CREATE INDEX memories_search_tsv ON memories USING gin (search_tsv);
    `,
  },
  {
    version: 6,
    name: 'vector-spaces',
    // Which embedding spaces exist and which one searches read
    // (infra/vector/vector-spaces.ts). A space is one embedder id and
    // dimension, stored in its own table or collection (location), so spaces
    // never mix. At most one space is active; a new embedder's space is
    // building until the re-embedding workflow has filled it.
    sql: `
      CREATE TABLE vector_spaces (
        id text PRIMARY KEY,
        dimension integer NOT NULL CHECK (dimension > 0),
        location text NOT NULL,
        state text NOT NULL CHECK (state IN ('building', 'active', 'retired')),
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        retired_at timestamptz
      );
      CREATE UNIQUE INDEX vector_spaces_one_active ON vector_spaces (state) WHERE state = 'active';
    `,
  },
  {
    version: 7,
    name: 'index-requests',
    // The reconciler's bookkeeping (infra/db/sql-index-state-queries.ts): when
    // it last asked for a memory's indexing and how often at this revision, so
    // it asks least recently asked first and gives up (failed) after a cap;
    // the same for tombstones. The partial index finds failed memories for a
    // reindex without a scan. A retired space whose table or collection was
    // removed once no reader used it is marked dropped.
    sql: `
      ALTER TABLE memories ADD COLUMN index_requested_at timestamptz;
      ALTER TABLE memories ADD COLUMN index_requests integer NOT NULL DEFAULT 0;
      ALTER TABLE memories ADD COLUMN index_requests_revision integer NOT NULL DEFAULT 0;
      ALTER TABLE memory_tombstones ADD COLUMN requested_at timestamptz;
      ALTER TABLE vector_spaces ADD COLUMN dropped_at timestamptz;
      CREATE INDEX memories_index_failed ON memories (user_id, id) WHERE index_state = 'failed';
    `,
  },
  {
    version: 8,
    name: 'event-time-and-expiry',
    // When a memory's event happened (the save time unless the client says,
    // so existing rows take their created_at) and when it stops existing. The
    // recent strategy reads a user's latest events by the first index; reads
    // skip expired rows and consolidation finds them for purging by the second.
    sql: `
      ALTER TABLE memories ADD COLUMN occurred_at timestamptz;
      UPDATE memories SET occurred_at = created_at;
      ALTER TABLE memories ALTER COLUMN occurred_at SET NOT NULL;
      ALTER TABLE memories ALTER COLUMN occurred_at SET DEFAULT now();
      ALTER TABLE memories ADD COLUMN expires_at timestamptz;
      CREATE INDEX memories_user_occurred ON memories (user_id, occurred_at DESC, id DESC)
        WHERE state = 'active';
      CREATE INDEX memories_user_expires ON memories (user_id, expires_at)
        WHERE expires_at IS NOT NULL;
    `,
  },
  {
    version: 9,
    name: 'memory-revisions',
    // What a memory said before a conversation revised it
    // (infra/db/sql-memory-revisions.ts): one row per replaced revision, gone
    // with the memory (deleted, merged or purged once expired).
    sql: `
      CREATE TABLE memory_revisions (
        memory_id uuid NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        revision integer NOT NULL,
        content text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        occurred_at timestamptz NOT NULL,
        replaced_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (memory_id, revision)
      );
    `,
  },
  importAndExport,
  dataVersionNotify,
  narrativeNotify,
];

// An arbitrary constant: every process migrating the same database takes this lock.
const MIGRATION_LOCK_ID = 7_342_118_901;

/**
 * Applies pending migrations in one transaction under an advisory lock, so
 * several processes starting at once migrate exactly once. Returns the
 * versions it applied.
 */
export async function migrate(driver: SqlDriver): Promise<number[]> {
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}

// Statements go one by one through the parameterised path, which both drivers share.
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
