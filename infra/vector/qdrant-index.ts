import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { AppError } from '../../core/errors.ts';
import type { VectorHit, VectorIndex, VectorQuery } from '../../core/ports/vector-index.ts';
import { FILTER_INDEXES, filterPayload, payloadFilter } from './qdrant-filter.ts';
import {
  assertIdPage,
  assertUserIds,
  assertUuid,
  checkedQuery,
  checkedRecords,
} from './vector-input.ts';

export interface QdrantIndexOptions {
  /** E.g. `http://127.0.0.1:6333`; a URL without a port gets Qdrant's 6333. */
  url: string;
  apiKey?: string;
  /** Created when missing; an existing one must hold cosine vectors of `dimension`. */
  collection: string;
  dimension: number;
  /** Per-request timeout (default 30 s); a timeout is `dependency_unavailable`. */
  timeoutMs?: number;
}

/** Points per upsert request. */
const UPSERT_CHUNK = 500;

/**
 * A vector index on Qdrant, through the Query API (`query`, `queryBatch`).
 *
 * All users share one collection, partitioned by a `user_id` keyword payload
 * index marked `is_tenant`, rather than one collection per user: Qdrant
 * stores each tenant's points together and builds HNSW graphs per tenant
 * (`payload_m`; the global graph is off with `m: 0`, as no query spans
 * users), while each collection would carry its own segments, WAL and
 * optimizer, which stops scaling after a few hundred users (Qdrant Cloud caps
 * clusters at 1,000 collections). Every query and delete carries a `user_id`
 * filter. Point ids are the memory UUIDs; scores are Qdrant's cosine
 * similarity. Unreachable servers, timeouts and 5xx answers are
 * `AppError('dependency_unavailable')`.
 */
export async function createQdrantIndex(options: QdrantIndexOptions): Promise<VectorIndex> {
  const { url, apiKey, collection, dimension, timeoutMs = 30_000 } = options;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65_536) {
    throw new AppError(
      'bad_request',
      `vector dimension must be a positive integer, got ${dimension}`,
    );
  }
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(collection)) {
    throw new AppError(
      'bad_request',
      `invalid Qdrant collection name ${JSON.stringify(collection)}`,
    );
  }
  let client: QdrantClient;
  try {
    client = new QdrantClient({
      url,
      ...(apiKey ? { apiKey } : {}),
      timeout: timeoutMs,
      // The client warns on a minor-version gap; the endpoints used here are stable.
      checkCompatibility: false,
    });
  } catch (cause) {
    throw new AppError('bad_request', `invalid Qdrant URL ${JSON.stringify(url)}`, { cause });
  }
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> =>
    fn().catch((error: unknown) => {
      throw mapQdrantError(error, what);
    });

  await call(`prepare collection ${collection}`, () =>
    ensureCollection(client, collection, dimension),
  );

  const userFilter = (userId: string): Schemas['Filter'] => ({
    must: [{ key: 'user_id', match: { value: userId } }],
  });
  const toQuery = (query: VectorQuery, at: string): Schemas['QueryRequest'] => {
    const filter = checkedQuery(query, dimension, at);
    return {
      query: [...query.vector],
      filter: payloadFilter(query.userId.toLowerCase(), filter),
      limit: query.limit,
      with_payload: false,
      with_vector: false,
    };
  };
  const toHits = (response: Schemas['QueryResponse']): VectorHit[] =>
    response.points.map((p) => ({ id: String(p.id), score: p.score }));

  return {
    kind: 'qdrant',
    dimension,

    async upsert(records) {
      const points = checkedRecords(records, dimension).map((r) => ({
        id: r.id.toLowerCase(),
        vector: [...r.vector],
        payload: { user_id: r.userId.toLowerCase(), ...filterPayload(r) },
      }));
      for (let start = 0; start < points.length; start += UPSERT_CHUNK) {
        const chunk = points.slice(start, start + UPSERT_CHUNK);
        await call('upsert', () => client.upsert(collection, { wait: true, points: chunk }));
      }
    },

    async delete(userId, ids) {
      assertUserIds(userId, ids);
      if (ids.length === 0) return;
      // has_id inside the user filter: another user's ids match nothing.
      const filter: Schemas['Filter'] = {
        must: [
          { key: 'user_id', match: { value: userId.toLowerCase() } },
          { has_id: ids.map((id) => id.toLowerCase()) },
        ],
      };
      await call('delete', () => client.delete(collection, { wait: true, filter }));
    },

    async search(query) {
      const request = toQuery(query, 'query');
      return toHits(await call('query', () => client.query(collection, request)));
    },

    async searchBatch(queries) {
      if (queries.length === 0) return [];
      const searches = queries.map((query, i) => toQuery(query, `queries[${i}]`));
      const responses = await call('queryBatch', () => client.queryBatch(collection, { searches }));
      return responses.map(toHits);
    },

    async listIds(userId, { limit, afterId }) {
      assertIdPage(userId, limit, afterId);
      const after = afterId?.toLowerCase();
      // Scroll pages by id and its offset is inclusive: ask for one more and drop `afterId`.
      const page = await call('scroll', () =>
        client.scroll(collection, {
          filter: userFilter(userId.toLowerCase()),
          limit: limit + 1,
          ...(after ? { offset: after } : {}),
          with_payload: false,
          with_vector: false,
        }),
      );
      return page.points
        .map((p) => String(p.id))
        .filter((id) => id !== after)
        .slice(0, limit);
    },

    async getVectors(userId, ids) {
      assertUserIds(userId, ids);
      const vectors = new Map<string, number[]>();
      if (ids.length === 0) return vectors;
      const user = userId.toLowerCase();
      const points = await call('retrieve', () =>
        client.retrieve(collection, {
          ids: [...new Set(ids.map((id) => id.toLowerCase()))],
          with_payload: ['user_id'],
          with_vector: true,
        }),
      );
      // Retrieve has no filter: another user's points are dropped here.
      for (const point of points) {
        if (point.payload?.user_id !== user || !Array.isArray(point.vector)) continue;
        vectors.set(String(point.id), point.vector as number[]);
      }
      return vectors;
    },

    async count(userId) {
      if (userId !== undefined) assertUuid(userId, 'userId');
      const result = await call('count', () =>
        client.count(collection, {
          exact: true,
          ...(userId !== undefined ? { filter: userFilter(userId.toLowerCase()) } : {}),
        }),
      );
      return result.count;
    },

    async ping() {
      const { exists } = await call('ping', () => client.collectionExists(collection));
      if (!exists) {
        throw new AppError('dependency_unavailable', `Qdrant collection ${collection} is gone`);
      }
    },

    // The client holds no resources beyond undici's idle keep-alive sockets, which it unrefs.
    async close() {},
  };
}

async function ensureCollection(
  client: QdrantClient,
  collection: string,
  dimension: number,
): Promise<void> {
  if (!(await client.collectionExists(collection)).exists) {
    try {
      await client.createCollection(collection, {
        vectors: { size: dimension, distance: 'Cosine' },
        hnsw_config: { m: 0, payload_m: 16 },
      });
    } catch (error) {
      // Another process may have created it meanwhile; anything else is a real failure.
      if (!(await client.collectionExists(collection)).exists) throw error;
    }
  }
  const info = await client.getCollection(collection);
  const vectors = info.config.params.vectors as Schemas['VectorParams'] | undefined;
  if (vectors?.size !== dimension || vectors.distance !== 'Cosine') {
    throw new AppError(
      'bad_request',
      `Qdrant collection ${collection} holds ${vectors?.distance ?? 'named'} vectors of size ` +
        `${vectors?.size ?? '?'}, not Cosine vectors of size ${dimension}`,
    );
  }
  // Creating an index that exists with the same schema is a no-op, so this is idempotent.
  await client.createPayloadIndex(collection, {
    wait: true,
    field_name: 'user_id',
    field_schema: { type: 'keyword', is_tenant: true },
  });
  for (const [field_name, field_schema] of FILTER_INDEXES) {
    await client.createPayloadIndex(collection, { wait: true, field_name, field_schema });
  }
}

/** Maps client failures: unreachable, timed out or 5xx is `dependency_unavailable`. */
function mapQdrantError(error: unknown, what: string): unknown {
  if (error instanceof AppError) return error;
  const status = (error as { status?: unknown }).status;
  const message = `Qdrant ${what} failed`;
  if (typeof status === 'number') {
    if (status === 429)
      return new AppError('rate_limited', `${message}: rate limited`, { cause: error });
    if (status >= 500) {
      return new AppError('dependency_unavailable', `${message}: HTTP ${status}`, { cause: error });
    }
    return new AppError('internal', `${message}: HTTP ${status}`, { cause: error });
  }
  const name = error instanceof Error ? error.name : '';
  if (name === 'QdrantClientResourceExhaustedError') {
    return new AppError('rate_limited', `${message}: rate limited`, { cause: error });
  }
  // fetch failures (TypeError "fetch failed" with ECONNREFUSED & co.), timeouts and aborts.
  if (
    error instanceof TypeError ||
    name === 'QdrantClientTimeoutError' ||
    name === 'AbortError' ||
    /ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|socket|fetch failed/i.test(String(error))
  ) {
    return new AppError('dependency_unavailable', `${message}: Qdrant is unreachable`, {
      cause: error,
    });
  }
  return new AppError('internal', message, { cause: error });
}

/** Removes a collection {@link createQdrantIndex} made; nothing when it is not there. */
export async function dropQdrantCollection(
  options: Pick<QdrantIndexOptions, 'url' | 'apiKey' | 'collection' | 'timeoutMs'>,
): Promise<void> {
  const { url, apiKey, collection, timeoutMs = 30_000 } = options;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(collection)) {
    throw new AppError(
      'bad_request',
      `invalid Qdrant collection name ${JSON.stringify(collection)}`,
    );
  }
  const client = new QdrantClient({
    url,
    ...(apiKey ? { apiKey } : {}),
    timeout: timeoutMs,
    checkCompatibility: false,
  });
  try {
    if ((await client.collectionExists(collection)).exists) {
      await client.deleteCollection(collection);
    }
  } catch (error) {
    throw mapQdrantError(error, `drop collection ${collection}`);
  }
}
