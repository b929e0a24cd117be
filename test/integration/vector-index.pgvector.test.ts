import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import type { RetrievalFilter } from '../../core/ports/retrieval-filter.ts';
import type { VectorIndex } from '../../core/ports/vector-index.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import { createPgvectorIndex } from '../../infra/vector/pgvector-index.ts';
import { vectorIndexContract } from '../contracts/vector-index.contract.ts';
import { requireTestEnv } from '../support/test-env.ts';

const DIMENSION = 384;
const url = requireTestEnv('TEST_PGVECTOR_URL');
const pgOptions = { url, poolSize: 5, statementTimeoutMs: 30_000, connectTimeoutMs: 3000 };

vectorIndexContract('pgvector on PGlite', async () =>
  createPgvectorIndex({
    driver: await createPgliteDriver('memory://'),
    dimension: DIMENSION,
    ownsDriver: true,
  }),
);

vectorIndexContract('pgvector on PostgreSQL 18', async () =>
  createPgvectorIndex({
    driver: await createPgDriver(pgOptions),
    dimension: DIMENSION,
    ownsDriver: true,
  }),
);

describe('pgvector index on PostgreSQL 18', () => {
  const drivers: SqlDriver[] = [];
  const driver = async () => {
    const created = await createPgDriver(pgOptions);
    drivers.push(created);
    return created;
  };
  after(async () => {
    await Promise.all(drivers.map((d) => d.close()));
  });

  it('creates its table once when several processes start at the same time', async () => {
    const table = `vectors_race_${Date.now()}`;
    const created = await Promise.all(
      [1, 2, 3].map(async () =>
        createPgvectorIndex({ driver: await driver(), dimension: 8, table }),
      ),
    );
    const user = randomUUID();
    await created[0]!.upsert([{ id: randomUUID(), userId: user, vector: unit(8, 0), tags: [] }]);
    assert.equal(await created[2]!.count(user), 1);
  });

  it('refuses a table that holds vectors of another dimension', async () => {
    const table = `vectors_dim_${Date.now()}`;
    await createPgvectorIndex({ driver: await driver(), dimension: 8, table });
    await assert.rejects(
      createPgvectorIndex({ driver: await driver(), dimension: 16, table }),
      (error: unknown) => error instanceof AppError && error.code === 'bad_request',
    );
  });

  it('keeps a large user searchable through the HNSW index, nearest first', async () => {
    const index = await largeUserIndex(await driver());
    const { user, vectors } = await seedLargeUser(index);
    for (const target of [vectors[0]!, vectors[137]!, vectors[299]!]) {
      const hits = await index.search({ userId: user, vector: target.vector, limit: 10 });
      assert.equal(hits.length, 10);
      assert.equal(hits[0]?.id, target.id);
      assert.ok(hits.every((h, i) => i === 0 || h.score <= hits[i - 1]!.score));
      assert.ok(hits.every((h) => vectors.some((v) => v.id === h.id)));
    }
  });

  it('returns every match when a large user asks for more than the HNSW scan yields', async () => {
    const index = await largeUserIndex(await driver());
    const { user, vectors } = await seedLargeUser(index);
    const hits = await index.search({ userId: user, vector: vectors[5]!.vector, limit: 1000 });
    assert.equal(hits.length, vectors.length);
    assert.equal(hits[0]?.id, vectors[5]!.id);
  });

  it('narrows a large user through HNSW or the exact scan by how many vectors pass the filter', async () => {
    const index = await largeUserIndex(await driver());
    const { user, vectors } = await seedLargeUser(index);
    // 150 of 300 pass (above exactScanMax 50: HNSW), then 20 (exact scan).
    for (const [filter, keep] of [
      [{ metadata: { half: [0] } }, (i: number) => i % 2 === 0],
      [{ tagsAll: ['fifteenth'], state: 'active' }, (i: number) => i % 15 === 0],
    ] as const) {
      const target = vectors[30]!;
      const hits = await index.search({ userId: user, vector: target.vector, limit: 10, filter });
      assert.equal(hits.length, 10);
      assert.equal(hits[0]?.id, target.id);
      const allowed = new Set<string>(vectors.filter((_, i) => keep(i)).map((v) => v.id));
      assert.ok(
        hits.every((h) => allowed.has(h.id)),
        JSON.stringify(filter),
      );
    }
  });

  it('reports an unreachable server as dependency_unavailable', async () => {
    const unreachable = await createPgDriver({
      ...pgOptions,
      url: 'postgres://nobody:nothing@127.0.0.1:1/none',
      connectTimeoutMs: 1000,
    });
    drivers.push(unreachable);
    await assert.rejects(
      createPgvectorIndex({ driver: unreachable, dimension: 8 }),
      (error: unknown) => error instanceof AppError && error.code === 'dependency_unavailable',
    );
  });
});

describe('pgvector index made before filters', () => {
  it('gains the filter payload, copied from the memories beside it', async () => {
    const driver = await createPgliteDriver('memory://');
    after(() => driver.close());
    const user = randomUUID();
    const memory = randomUUID();
    await driver.exec(`
      CREATE EXTENSION IF NOT EXISTS vector;
      CREATE TABLE memories (id uuid PRIMARY KEY, user_id uuid NOT NULL, metadata jsonb NOT NULL,
        occurred_at timestamptz NOT NULL, state text NOT NULL);
      CREATE TABLE legacy_vectors (id uuid PRIMARY KEY, user_id uuid NOT NULL,
        tags text[] NOT NULL DEFAULT '{}', embedding vector(8) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now());`);
    const metadata = {
      project: 'apo"llo ü\\n',
      'line\nkey': 'tab\there\u0001, 😀',
      n: 3,
      ratio: 2.5,
      on: true,
      deep: { x: 1 },
    };
    await driver.query(
      `INSERT INTO memories VALUES ($1, $2, $3::jsonb, '2022-02-02T00:00:00Z', 'archived')`,
      [memory, user, JSON.stringify(metadata)],
    );
    await driver.query(
      `INSERT INTO legacy_vectors (id, user_id, embedding) VALUES ($1, $2, $3::vector)`,
      [memory, user, JSON.stringify(unit(8, 0))],
    );
    const index = await createPgvectorIndex({ driver, dimension: 8, table: 'legacy_vectors' });
    const search = (filter: RetrievalFilter) =>
      index
        .search({ userId: user, vector: unit(8, 0), limit: 5, filter })
        .then((hits) => hits.map((h) => h.id));
    for (const [key, value] of Object.entries(metadata).filter(([k]) => k !== 'deep')) {
      assert.deepEqual(await search({ metadata: { [key]: [value as string] } }), [memory], key);
    }
    assert.deepEqual(await search({ from: new Date('2022-02-02T00:00:00Z'), state: 'archived' }), [
      memory,
    ]);
    assert.deepEqual(await search({ state: 'active' }), []);
  });
});

/** An index that sends users with more than 50 vectors through HNSW, so small tests reach it. */
function largeUserIndex(driver: SqlDriver): Promise<VectorIndex> {
  return createPgvectorIndex({
    driver,
    dimension: 16,
    table: `vectors_large_${Date.now()}_${Math.floor(Math.random() * 1e6)}`,
    exactScanMax: 50,
  });
}

async function seedLargeUser(index: VectorIndex) {
  const user = randomUUID();
  const vectors = Array.from({ length: 300 }, (_, i) => ({
    id: randomUUID(),
    userId: user,
    vector: unit(16, i % 16, (i * 7919) % 1000),
    tags: i % 15 === 0 ? ['fifteenth'] : [],
    metadata: { half: i % 2 },
  }));
  const others = Array.from({ length: 300 }, (_, i) => ({
    id: randomUUID(),
    userId: randomUUID(),
    vector: unit(16, i % 16, i),
    tags: [],
  }));
  await index.upsert([...vectors, ...others]);
  return { user, vectors };
}

/** A unit vector leaning on axis `i`, varied deterministically by `seed`. */
function unit(dimension: number, i: number, seed = 0): number[] {
  const v = Array.from(
    { length: dimension },
    (_, j) => Math.sin(seed * 12.9898 + j * 78.233) * 0.3,
  );
  v[i] = (v[i] ?? 0) + 1;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
