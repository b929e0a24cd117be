import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GoogleGenAI } from '@google/genai';
import { AppError } from '../../core/errors.ts';
import { startGeminiEmulator, type GeminiEmulator } from '../../tools/gemini-emulator/emulator.ts';
import { createGeminiEmbedder } from '../../infra/gemini/gemini-embedder.ts';
import { createGeminiLanguageModel } from '../../infra/gemini/gemini-language-model.ts';

const API_KEY = 'test-key';
const CHAT_MODEL = 'gemini-2.5-flash';
const EMBEDDING_MODEL = 'text-embedding-004';

const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));

/** Asserts that `promise` rejects with an `AppError` of `code`, and returns it. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected an AppError ${code}, got a result`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe('Gemini emulator with the real @google/genai client', () => {
  let emulator: GeminiEmulator;
  let sdk: GoogleGenAI;
  const languageModel = (timeoutMs = 30_000) =>
    createGeminiLanguageModel({
      apiKey: API_KEY,
      baseUrl: emulator.url,
      model: CHAT_MODEL,
      timeoutMs,
    });
  const embedder = (dimension = 256, timeoutMs = 30_000) =>
    createGeminiEmbedder({
      apiKey: API_KEY,
      baseUrl: emulator.url,
      model: EMBEDDING_MODEL,
      dimension,
      timeoutMs,
    });

  before(async () => {
    emulator = await startGeminiEmulator({ port: 0, apiKey: API_KEY, seed: 7 });
    sdk = new GoogleGenAI({
      apiKey: API_KEY,
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: emulator.url },
    });
  });

  after(async () => {
    await emulator.close();
  });

  beforeEach(() => {
    emulator.configure({ responder: null, methods: { all: { latency: null, failures: null } } });
    emulator.resetStats();
  });

  it('listens on the port it was given (0 picks a free one) and reports it in its URL', () => {
    assert.ok(emulator.port > 0);
    assert.equal(emulator.url, `http://127.0.0.1:${emulator.port}`);
  });

  describe('generateContent', () => {
    it('answers in text mode with deterministic text derived from the prompt', async () => {
      const ask = () =>
        sdk.models.generateContent({ model: CHAT_MODEL, contents: 'Where did I park the car?' });
      const first = await ask();
      const second = await ask();
      assert.match(first.text ?? '', /Where did I park the car\?/);
      assert.equal(second.text, first.text);
      assert.equal(first.modelVersion, CHAT_MODEL);
    });

    it('answers in JSON mode with a parseable JSON object', async () => {
      const response = await sdk.models.generateContent({
        model: CHAT_MODEL,
        contents: 'List the people I met this week',
        config: { responseMimeType: 'application/json' },
      });
      const parsed = JSON.parse(response.text ?? '') as unknown;
      assert.equal(typeof parsed, 'object');
      assert.ok(parsed !== null && !Array.isArray(parsed));
    });

    it('also serves the SDK default API version (v1) when none is pinned', async () => {
      const defaultClient = new GoogleGenAI({
        apiKey: API_KEY,
        httpOptions: { baseUrl: emulator.url },
      });
      const response = await defaultClient.models.generateContent({
        model: CHAT_MODEL,
        contents: 'hi',
      });
      assert.match(response.text ?? '', /hi/);
    });

    it('uses a registered custom responder, which sees prompt, system text and JSON mode', async () => {
      const seen: { prompt: string; system: string | undefined; json: boolean }[] = [];
      emulator.configure({
        responder: ({ prompt, system, json }) => {
          seen.push({ prompt, system, json });
          return JSON.stringify({ intent: 'recall', entities: ['Ana'] });
        },
      });
      const llm = await languageModel();
      const result = await llm.generate({
        system: 'Plan the query.',
        prompt: 'What did Ana say?',
        json: true,
      });
      assert.deepEqual(JSON.parse(result.text), { intent: 'recall', entities: ['Ana'] });
      assert.deepEqual(seen, [
        { prompt: 'What did Ana say?', system: 'Plan the query.', json: true },
      ]);
    });
  });

  describe('embeddings', () => {
    it('embeds one text with the default 768 dimensions, as a unit vector', async () => {
      const response = await sdk.models.embedContent({
        model: EMBEDDING_MODEL,
        contents: 'one text',
      });
      const values = response.embeddings?.[0]?.values ?? [];
      assert.equal(response.embeddings?.length, 1);
      assert.equal(values.length, 768);
      assert.ok(Math.abs(norm(values) - 1) < 1e-9);
    });

    it('embeds a batch in order with outputDimensionality honoured, the same text giving the same vector', async () => {
      const response = await sdk.models.embedContent({
        model: EMBEDDING_MODEL,
        contents: ['alpha beta', 'gamma delta', 'alpha beta'],
        config: { outputDimensionality: 64 },
      });
      const vectors = (response.embeddings ?? []).map((e) => e.values ?? []);
      assert.deepEqual(
        vectors.map((v) => v.length),
        [64, 64, 64],
      );
      assert.deepEqual(vectors[2], vectors[0]);
      assert.notDeepEqual(vectors[1], vectors[0]);
    });

    it('serves the plain REST :embedContent method with outputDimensionality', async () => {
      const res = await fetch(`${emulator.url}/v1beta/models/${EMBEDDING_MODEL}:embedContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': API_KEY },
        body: JSON.stringify({ content: { parts: [{ text: 'hello' }] }, outputDimensionality: 32 }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { embedding: { values: number[] } };
      assert.equal(body.embedding.values.length, 32);
      assert.equal(emulator.stats().embedContent.calls, 1);
    });

    it('the embedder adapter splits 250 texts into batches of at most 100 and keeps their order', async () => {
      const texts = Array.from({ length: 250 }, (_, i) => `memory number ${i}`);
      const vectors = await (await embedder(256)).embed(texts);
      assert.equal(vectors.length, 250);
      for (const v of vectors) {
        assert.equal(v.length, 256);
        assert.ok(Math.abs(norm(v) - 1) < 1e-9);
      }
      const [alone] = await (await embedder(256)).embed(['memory number 249']);
      assert.deepEqual(vectors[249], alone);
      const stats = emulator.stats().batchEmbedContents;
      assert.equal(stats.calls, 4);
      assert.equal(stats.items, 251);
    });

    it('the embedder adapter names its space after model and dimension', async () => {
      const e = await embedder(128);
      assert.equal(e.id, `gemini:${EMBEDDING_MODEL}@128`);
      assert.equal(e.dimension, 128);
      assert.deepEqual(await e.embed([]), []);
    });
  });

  describe('failures map to AppError codes', () => {
    it('an injected 429 becomes rate_limited with the retry-after seconds in details', async () => {
      emulator.configure({
        methods: { generateContent: { failures: { rateLimited: 1, retryAfterSeconds: 7 } } },
      });
      const error = await rejectsWith(
        (await languageModel()).generate({ prompt: 'hi' }),
        'rate_limited',
      );
      assert.equal(error.details?.retryAfterSeconds, 7);
      assert.equal(emulator.stats().generateContent.rateLimited, 1);
    });

    it('an injected 429 carries a Retry-After header and Gemini RESOURCE_EXHAUSTED body on the wire', async () => {
      emulator.configure({
        methods: { generateContent: { failures: { rateLimited: 1, retryAfterSeconds: 3 } } },
      });
      const res = await fetch(`${emulator.url}/v1beta/models/${CHAT_MODEL}:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': API_KEY },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
      });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '3');
      const body = (await res.json()) as { error: { code: number; status: string } };
      assert.equal(body.error.code, 429);
      assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    });

    it('an injected 429 on embeddings becomes rate_limited too', async () => {
      emulator.configure({ methods: { batchEmbedContents: { failures: { rateLimited: 1 } } } });
      const error = await rejectsWith((await embedder()).embed(['x']), 'rate_limited');
      assert.equal(error.details?.retryAfterSeconds, 2);
    });

    it('an injected 500 becomes dependency_unavailable for both adapters', async () => {
      emulator.configure({ methods: { all: { failures: { serverError: 1 } } } });
      await rejectsWith(
        (await languageModel()).generate({ prompt: 'hi' }),
        'dependency_unavailable',
      );
      await rejectsWith((await embedder()).embed(['x']), 'dependency_unavailable');
      assert.equal(emulator.stats().generateContent.serverErrors, 1);
      assert.equal(emulator.stats().batchEmbedContents.serverErrors, 1);
    });

    it('a held request becomes timeout after the short timeoutMs for both adapters', async () => {
      emulator.configure({ methods: { all: { failures: { timeout: 1 } } } });
      const llmError = await rejectsWith(
        (await languageModel(150)).generate({ prompt: 'hi' }),
        'timeout',
      );
      assert.equal(llmError.details?.timeoutMs, 150);
      await rejectsWith((await embedder(64, 150)).embed(['x']), 'timeout');
      await rejectsWith(
        (await languageModel(30_000)).generate({ prompt: 'hi', timeoutMs: 100 }),
        'timeout',
      );
      assert.equal(emulator.stats().generateContent.timeouts, 2);
    });

    it('a wrong API key is a 400 from the emulator and a retryable dependency_unavailable from the adapter', async () => {
      const llm = await createGeminiLanguageModel({
        apiKey: 'wrong-key',
        baseUrl: emulator.url,
        model: CHAT_MODEL,
        timeoutMs: 30_000,
      });
      await rejectsWith(llm.generate({ prompt: 'hi' }), 'dependency_unavailable');
    });

    it('an unreachable endpoint becomes dependency_unavailable', async () => {
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as AddressInfo;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const llm = await createGeminiLanguageModel({
        baseUrl: `http://127.0.0.1:${port}`,
        model: CHAT_MODEL,
        timeoutMs: 30_000,
      });
      await rejectsWith(llm.generate({ prompt: 'hi' }), 'dependency_unavailable');
    });

    it('closing the adapter cancels a call in flight and refuses later calls', async () => {
      emulator.configure({ methods: { generateContent: { failures: { timeout: 1 } } } });
      const llm = await languageModel(60_000);
      const pending = llm.generate({ prompt: 'hi' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await llm.close();
      await rejectsWith(pending, 'dependency_unavailable');
      await rejectsWith(llm.generate({ prompt: 'again' }), 'dependency_unavailable');
    });
  });

  describe('latency and counters', () => {
    it('a configured fixed latency delays the answer by at least that long', async () => {
      emulator.configure({ methods: { generateContent: { latency: { medianMs: 200 } } } });
      const started = performance.now();
      const result = await (await languageModel()).generate({ prompt: 'slow please' });
      const elapsed = performance.now() - started;
      // Lower bound only (timers may round down by a millisecond); a slow machine must never fail this.
      assert.ok(elapsed >= 195, `answered after ${elapsed} ms`);
      assert.ok(result.latencyMs >= 195, `reported ${result.latencyMs} ms`);
    });

    it('latency and failures configured for generateContent leave embeddings unaffected', async () => {
      // Were the 10-minute latency applied, the 30 s deadline would fail the call.
      emulator.configure({
        methods: {
          generateContent: { latency: { medianMs: 600_000 }, failures: { serverError: 1 } },
        },
      });
      const vectors = await (await embedder(64, 30_000)).embed(['fast']);
      assert.equal(vectors.length, 1);
    });

    it('counts calls per method and starts again from zero after resetStats()', async () => {
      const llm = await languageModel();
      await llm.generate({ prompt: 'one' });
      await llm.generate({ prompt: 'two' });
      await (await embedder()).embed(['a', 'b', 'c']);
      const stats = emulator.stats();
      assert.equal(stats.generateContent.calls, 2);
      assert.equal(stats.generateContent.succeeded, 2);
      assert.equal(stats.batchEmbedContents.calls, 1);
      assert.equal(stats.batchEmbedContents.items, 3);
      assert.equal(stats.embedContent.calls, 0);
      emulator.resetStats();
      assert.equal(emulator.stats().generateContent.calls, 0);
    });

    it('rejects an impossible failure configuration and keeps the previous behaviour', async () => {
      assert.throws(
        () =>
          emulator.configure({
            methods: {
              generateContent: { latency: { medianMs: 600_000 } },
              all: { failures: { rateLimited: 0.7, serverError: 0.7 } },
            },
          }),
        RangeError,
      );
      const result = await (await languageModel(30_000)).generate({ prompt: 'still fine' });
      assert.match(result.text, /still fine/);
    });
  });
});
