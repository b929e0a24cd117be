import { AppError } from '../../core/errors.ts';
import type { Embedder } from '../../core/ports/embedder.ts';
import {
  assertPositiveInt,
  createCallRunner,
  createGenAiClient,
  type GeminiConnectionOptions,
} from './gemini-client.ts';

/** Gemini's `batchEmbedContents` accepts at most 100 requests. */
export const GEMINI_MAX_BATCH = 100;

/** Options of {@link createGeminiEmbedder}. */
export interface GeminiEmbedderOptions extends GeminiConnectionOptions {
  /** Embedding model, such as `text-embedding-004`. */
  model: string;
  /** Requested `outputDimensionality`; every vector comes back this long. */
  dimension: number;
  /** Deadline of each request (one request carries up to `batchSize` texts). */
  timeoutMs: number;
  /** Texts per request, at most 100 (the API's limit). */
  batchSize?: number;
  /** Requests in flight at once for a large `embed()` call. */
  concurrency?: number;
}

/** The `Embedder` port over Gemini, plus `close()`. */
export interface GeminiEmbedder extends Embedder {
  /** Cancels requests in flight; later calls fail with `dependency_unavailable`. */
  close(): Promise<void>;
}

function unitLength(values: number[], expected: number, model: string): number[] {
  // Gemini embeddings are Matryoshka-trained: a longer vector may be cut to
  // its prefix. A shorter one means the model ignored the requested size.
  if (values.length < expected) {
    throw new AppError(
      'dependency_unavailable',
      `Gemini ${model} returned ${values.length} dimensions, expected ${expected}`,
      { details: { provider: 'gemini', model, expected, got: values.length } },
    );
  }
  const vector = values.slice(0, expected);
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  if (!Number.isFinite(norm) || norm === 0) {
    throw new AppError('dependency_unavailable', `Gemini ${model} returned a zero vector`, {
      details: { provider: 'gemini', model },
    });
  }
  return vector.map((v) => v / norm);
}

/**
 * Creates the Gemini embedder over the real `@google/genai` client. Texts go
 * out in batches of at most 100 (`models.embedContent`, which the SDK sends
 * to `:batchEmbedContents`), with `outputDimensionality` set to `dimension`;
 * vectors come back L2-normalised, in input order. Failures map to
 * `AppError` like the language model's.
 */
export async function createGeminiEmbedder(
  options: GeminiEmbedderOptions,
): Promise<GeminiEmbedder> {
  const { model, dimension, timeoutMs } = options;
  const batchSize = options.batchSize ?? GEMINI_MAX_BATCH;
  const concurrency = options.concurrency ?? 4;
  if (!model) throw new RangeError('model is required');
  assertPositiveInt('dimension', dimension, 4096);
  assertPositiveInt('timeoutMs', timeoutMs);
  assertPositiveInt('batchSize', batchSize, GEMINI_MAX_BATCH);
  assertPositiveInt('concurrency', concurrency, 64);
  const ai = createGenAiClient(options);
  const runner = createCallRunner(model);

  async function embedBatch(texts: readonly string[]): Promise<number[][]> {
    const response = await runner.run('embedContent', timeoutMs, (abortSignal) =>
      ai.models.embedContent({
        model,
        contents: [...texts],
        config: { outputDimensionality: dimension, abortSignal },
      }),
    );
    const embeddings = response.embeddings ?? [];
    if (embeddings.length !== texts.length) {
      throw new AppError(
        'dependency_unavailable',
        `Gemini ${model} returned ${embeddings.length} embeddings for ${texts.length} texts`,
        { details: { provider: 'gemini', model, expected: texts.length, got: embeddings.length } },
      );
    }
    return embeddings.map((e) => unitLength(e.values ?? [], dimension, model));
  }

  async function embed(texts: readonly string[]): Promise<number[][]> {
    const batches: (readonly string[])[] = [];
    for (let i = 0; i < texts.length; i += batchSize) batches.push(texts.slice(i, i + batchSize));
    const results: number[][][] = new Array<number[][]>(batches.length);
    let next = 0;
    let failed = false;
    // A small pool: large imports finish sooner without flooding the quota.
    const worker = async () => {
      while (!failed && next < batches.length) {
        const index = next++;
        try {
          results[index] = await embedBatch(batches[index] ?? []);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
    return results.flat();
  }

  return {
    id: `gemini:${model}@${dimension}`,
    dimension,
    embed,
    close() {
      runner.close();
      return Promise.resolve();
    },
  };
}
