import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { QdrantClient } from '@qdrant/js-client-rest';
import { AppError } from '../../core/errors.ts';
import { createQdrantIndex } from '../../infra/vector/qdrant-index.ts';
import { vectorIndexContract } from '../contracts/vector-index.contract.ts';

// No registry ships a Qdrant server, so this suite runs only where one is
// provided; it is the one suite allowed to skip.
const url = process.env.QDRANT_URL?.trim();
const apiKey = process.env.QDRANT_API_KEY?.trim() || undefined;
const skip = url ? false : 'QDRANT_URL is not set: no Qdrant server to test against';
const collection = `memengine_test_${Date.now()}_${process.pid}`;
const DIMENSION = 384;

describe('Qdrant vector index', { skip }, () => {
  after(async () => {
    if (!url) return;
    const client = new QdrantClient({
      url,
      ...(apiKey ? { apiKey } : {}),
      checkCompatibility: false,
    });
    await client.deleteCollection(collection);
  });

  vectorIndexContract('Qdrant', () =>
    createQdrantIndex({
      url: url!,
      ...(apiKey ? { apiKey } : {}),
      collection,
      dimension: DIMENSION,
    }),
  );

  it('reuses the collection it created earlier, with the same dimension', async () => {
    const again = await createQdrantIndex({
      url: url!,
      ...(apiKey ? { apiKey } : {}),
      collection,
      dimension: DIMENSION,
    });
    await again.ping();
    await again.close();
  });

  it('refuses an existing collection of another dimension', async () => {
    await assert.rejects(
      createQdrantIndex({ url: url!, ...(apiKey ? { apiKey } : {}), collection, dimension: 16 }),
      (error: unknown) => error instanceof AppError && error.code === 'bad_request',
    );
  });
});

it('reports an unreachable Qdrant as dependency_unavailable, with or without QDRANT_URL', async () => {
  await assert.rejects(
    createQdrantIndex({ url: 'http://127.0.0.1:1', collection, dimension: 8, timeoutMs: 2000 }),
    (error: unknown) => error instanceof AppError && error.code === 'dependency_unavailable',
  );
});
