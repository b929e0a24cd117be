import path from 'node:path';
import type { Logger } from 'pino';
import { createBatchingEmbedder } from '../core/batching/batching-embedder.ts';
import { AppError } from '../core/errors.ts';
import {
  createEntityExtractor,
  type EntityExtractor,
} from '../core/extraction/entity-extractor.ts';
import type { CacheStore } from '../core/ports/cache-store.ts';
import type { Embedder } from '../core/ports/embedder.ts';
import type { GraphStore } from '../core/ports/graph-store.ts';
import type { LanguageModel } from '../core/ports/language-model.ts';
import type { PortabilityStore } from '../core/ports/portability-store.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import type { VectorIndex } from '../core/ports/vector-index.ts';
import { createRedisCacheStore } from '../infra/cache/redis-cache-store.ts';
import type { Config } from '../infra/config.ts';
import { createPgDriver } from '../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../infra/db/sql-driver.ts';
import { createSqlPortabilityStore } from '../infra/db/sql-import-queries.ts';
import { createSqlRelationalStore } from '../infra/db/sql-relational-store.ts';
import { createNeo4jGraphStore } from '../infra/graph/neo4j-graph-store.ts';
import { createSqlGraphStore } from '../infra/graph/sql-graph-store.ts';
import { createLocalSpaceEmbedders, createModelAdapters } from './model-adapters.ts';
import { createPgvectorIndex, dropPgvectorIndex } from '../infra/vector/pgvector-index.ts';
import { createQdrantIndex, dropQdrantCollection } from '../infra/vector/qdrant-index.ts';
import {
  openVectorSpaces,
  spaceLocation,
  type ManagedVectorSpaces,
} from '../infra/vector/vector-spaces.ts';

/** Every port the engine runs over, built from the configuration. */
export interface EngineAdapters {
  store: RelationalStore;
  /** Export and import of a user's memories, in the relational store's database. */
  portability: PortabilityStore;
  /** The embedding spaces (see infra/vector/vector-spaces.ts). */
  spaces: ManagedVectorSpaces;
  /** The configured embedder's index (its space may still be building). */
  vectors: VectorIndex;
  graph: GraphStore;
  /** Null when no model is configured. */
  model: LanguageModel | null;
  embedder: Embedder;
  extractor: EntityExtractor;
  /** The shared L2 cache (Redis at `REDIS_URL`), or null. */
  l2: CacheStore | null;
  /** Closes everything it opened, in reverse order. */
  close(): Promise<void>;
}

/**
 * How much nicer the local PostgreSQL's processes serving background work are
 * than the rest (as the background embedding lane): enough that on a shared
 * machine queries come first, little enough that a background transaction
 * holding a row lock a save waits for is not starved.
 */
const BACKGROUND_DB_NICENESS = 5;

/**
 * Opens the relational store's driver: PGlite under the data directory when
 * `config.database` is `pglite`, else PostgreSQL at `databaseUrl`, which the
 * caller resolves with {@link databaseUrlFor}. `localServer`: the server is
 * the local PostgreSQL the product runs on this machine (its background
 * connections' processes are then made nicer).
 */
export function createSqlDriver(
  config: Config,
  logger: Logger,
  databaseUrl: string | null,
  localServer = false,
): Promise<SqlDriver> {
  return databaseUrl
    ? createPgDriver({
        url: databaseUrl,
        poolSize: config.PG_POOL_SIZE,
        statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
        connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
        preparedStatements: config.PG_PREPARED_STATEMENTS,
        onError: (error) => logger.warn({ err: error }, 'database connection error'),
        ...(localServer ? { backgroundNiceness: BACKGROUND_DB_NICENESS } : {}),
      })
    : createPgliteDriver(path.join(config.dataDir, 'pglite'));
}

/**
 * The PostgreSQL URL the store connects to: `DATABASE_URL`, or the URL of
 * the local server this process started (`embeddedUrl`); null for PGlite.
 * Throws when the configuration asks for the local server and none was
 * started here (an API or worker process of its own needs DATABASE_URL).
 */
export function databaseUrlFor(config: Config, embeddedUrl?: string): string | null {
  if (config.database === 'pglite') return null;
  if (config.database === 'external' && config.DATABASE_URL) return config.DATABASE_URL;
  if (embeddedUrl) return embeddedUrl;
  throw new Error(
    'no database to connect to: DATABASE_URL is not set and this process does not run the ' +
      'local PostgreSQL (only `npm start` does); set DATABASE_URL to the server to use ' +
      '(the multi-process launcher passes it), or STORE=pglite for a single process',
  );
}

/**
 * Builds the adapters the configuration asks for: the relational store
 * (PGlite, or PostgreSQL at `databaseUrl`, by default {@link databaseUrlFor}),
 * the vector index (Qdrant when `QDRANT_URL` is set, else pgvector in the
 * same database), the graph (Neo4j when `NEO4J_URL` is
 * set, else tables in the same database) and the model and embedder.
 * `localServer`: see {@link createSqlDriver}.
 */
export async function createEngineAdapters(
  config: Config,
  logger: Logger,
  databaseUrl: string | null = databaseUrlFor(config),
  localServer = false,
): Promise<EngineAdapters> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of closers.splice(0).reverse()) {
      await fn().catch((error: unknown) =>
        logger.warn({ err: error }, 'closing an adapter failed'),
      );
    }
  };
  try {
    const driver = await createSqlDriver(config, logger, databaseUrl, localServer);
    closers.push(() => driver.close());
    const store = await createSqlRelationalStore(driver);

    const models = await createModelAdapters(config);
    closers.push(() => models.close());
    const embedder = createBatchingEmbedder(models.embedder, {
      windowMs: config.EMBED_BATCH_WINDOW_MS,
      maxBatch: config.EMBED_BATCH_MAX,
    });

    const openIndex = (location: string, dimension: number): Promise<VectorIndex> =>
      config.QDRANT_URL
        ? createQdrantIndex({
            url: config.QDRANT_URL,
            ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}),
            collection: location,
            dimension,
          })
        : createPgvectorIndex({ driver, dimension, table: location }).catch((cause: unknown) => {
            throw new AppError(
              'dependency_unavailable',
              `the database has no usable pgvector (${cause instanceof Error ? cause.message : String(cause)}): install the vector extension there or set QDRANT_URL`,
              { cause },
            );
          });
    const spaceEmbedders = createLocalSpaceEmbedders(config);
    closers.push(() => spaceEmbedders.close());
    const spaces = await openVectorSpaces({
      store,
      embedderFor: (id) => spaceEmbedders.embedderFor(id),
      target: embedder,
      openIndex,
      locationFor: (id) =>
        spaceLocation(config.QDRANT_URL ? config.QDRANT_COLLECTION : 'vectors', id),
      // Before spaces were registered, pgvector kept the local hashing embedder's vectors here.
      ...(config.QDRANT_URL ? {} : { findLegacy: () => legacyPgvectorSpace(driver) }),
      refreshMs: config.VECTOR_SPACE_REFRESH_MS,
      dropIndex: (location) =>
        config.QDRANT_URL
          ? dropQdrantCollection({
              url: config.QDRANT_URL,
              ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}),
              collection: location,
            })
          : dropPgvectorIndex(driver, location),
      onError: (error) => logger.warn({ err: error }, 'reading the vector space registry failed'),
    });
    closers.push(() => spaces.close());
    const vectors = spaces.target().index;

    const graph = config.NEO4J_URL
      ? await createNeo4jGraphStore({
          url: config.NEO4J_URL,
          username: config.NEO4J_USER,
          password: config.NEO4J_PASSWORD,
          ...(config.NEO4J_DATABASE ? { database: config.NEO4J_DATABASE } : {}),
        })
      : await createSqlGraphStore(driver);
    closers.push(() => graph.close());

    // Redis may be down at start-up: the caches then run on L1 and reconnect in the background.
    const l2 = config.REDIS_URL
      ? await createRedisCacheStore({
          url: config.REDIS_URL,
          allowStartOffline: true,
          onError: (error) => logger.warn({ err: error }, 'redis unavailable; caches use L1 only'),
        })
      : null;
    if (l2) closers.push(() => l2.close());

    logger.info(
      {
        store: store.kind,
        vectors: vectors.kind,
        graph: graph.kind,
        embedder: embedder.id,
        l2: l2?.kind ?? 'none',
      },
      'engine adapters ready',
    );
    return {
      store,
      portability: createSqlPortabilityStore(driver),
      spaces,
      vectors,
      graph,
      model: models.model,
      embedder,
      l2,
      extractor: createEntityExtractor({
        model: models.model,
        timeoutMs: config.GEMINI_TIMEOUT_MS,
      }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The pgvector table from before the space registry, when it holds vectors. */
async function legacyPgvectorSpace(driver: SqlDriver) {
  const [table] = await driver.query<{ found: string | null }>(
    "SELECT to_regclass('memory_vectors_384')::text AS found",
  );
  if (!table?.found) return null;
  const [filled] = await driver.query<{ any: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM memory_vectors_384) AS any',
  );
  return filled?.any
    ? { id: 'local:hashing@384', dimension: 384, location: 'memory_vectors_384' }
    : null;
}
