import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { createNeo4jGraphStore } from '../../infra/graph/neo4j-graph-store.ts';
import { graphStoreContract } from '../contracts/graph-store.contract.ts';
import { requireTestEnv } from '../support/test-env.ts';

// The server the test runner starts (tools/dev-services/neo4j-server.ts) has authentication
// disabled, so the credentials only matter for a server given through the environment.
const connection = () => ({
  url: requireTestEnv('TEST_NEO4J_URL'),
  username: process.env.TEST_NEO4J_USER ?? 'neo4j',
  password: process.env.TEST_NEO4J_PASSWORD ?? 'neo4j',
});

// Any string id works in Neo4j; every test uses fresh users, so runs never collide.
graphStoreContract('Neo4j', async () => ({
  store: await createNeo4jGraphStore(connection()),
  createUser: async () => randomUUID(),
  createMemory: async () => randomUUID(),
}));

it('reports an unreachable Neo4j as dependency_unavailable, not a crash', async () => {
  await assert.rejects(
    createNeo4jGraphStore({
      ...connection(),
      url: 'bolt://127.0.0.1:1',
      connectTimeoutMs: 1_000,
      maxRetryTimeMs: 1_000,
    }),
    (error: unknown) => error instanceof AppError && error.code === 'dependency_unavailable',
  );
});

it('creates its schema idempotently when several stores start at once', async () => {
  const stores = await Promise.all([1, 2, 3].map(() => createNeo4jGraphStore(connection())));
  await Promise.all(stores.map((s) => s.ping()));
  await Promise.all(stores.map((s) => s.close()));
});
