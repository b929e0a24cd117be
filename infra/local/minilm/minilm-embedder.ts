import fs from 'node:fs/promises';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InferenceSession } from 'onnxruntime-node';
import type { Embedder } from '../../../core/ports/embedder.ts';
import { paddedBatch, truncateIds } from '../token-batch.ts';

/** The model's hidden size, and so the embedding length. */
export const MINILM_DIMENSION = 384;
const DIMENSION = MINILM_DIMENSION;
/** The embedding space's id. */
export const MINILM_ID = `local:all-MiniLM-L6-v2@${DIMENSION}`;
/** all-MiniLM-L6-v2 was trained on sequences of at most 256 tokens (the architecture allows 512). */
const DEFAULT_MAX_TOKENS = 256;
const POSITION_LIMIT = 512;
/**
 * Texts per model call. Small calls keep a call's activations (8 × 50 tokens ×
 * 1536 floats in the feed-forward layer) within a core's L2 cache: on LoCoMo
 * turns (~50 tokens) 8 took 21 s of CPU for 3,435 texts where 32 took 29 s,
 * and 2 or 4 gained nothing more. Length-sorted calls also pad less.
 */
const SUB_BATCH = 8;

/** Options of {@link createMiniLmEmbedder}. */
export interface MiniLmEmbedderOptions {
  /** A directory from `ensureMiniLmModel`: model.onnx, tokenizer.json, tokenizer_config.json. */
  modelDir: string;
  /** Threads one model call may use (default 1: the product runs on one core). */
  threads?: number;
  /** Longer texts are cut to this many tokens, [CLS] and [SEP] included (default 256, at most 512). */
  maxTokens?: number;
}

/** An embedder holding a model session, released by `close()`. */
export type MiniLmEmbedder = Embedder & { close(): Promise<void> };

/**
 * The sentence embedder all-MiniLM-L6-v2 run locally with onnxruntime: 384
 * dimensions, mean pooling, unit length (`local:all-MiniLM-L6-v2@384`).
 * Texts are embedded in sub-batches of similar length, each padded to its
 * longest text, so one long text does not make a whole batch expensive.
 * The model was trained symmetrically: queries and passages are embedded alike.
 */
export async function createMiniLmEmbedder(
  options: MiniLmEmbedderOptions,
): Promise<MiniLmEmbedder> {
  const threads = options.threads ?? 1;
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError('MiniLM embedder threads must be a positive integer');
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > POSITION_LIMIT) {
    throw new RangeError(`MiniLM embedder maxTokens must be an integer in 2..${POSITION_LIMIT}`);
  }
  const readJson = async (name: string) =>
    JSON.parse(await fs.readFile(path.join(options.modelDir, name), 'utf8')) as object;
  const tokenizer = new Tokenizer(
    await readJson('tokenizer.json'),
    await readJson('tokenizer_config.json'),
  );
  const sepId = tokenizer.token_to_id('[SEP]');
  if (sepId === undefined) throw new Error(`${options.modelDir}: tokenizer has no [SEP] token`);
  const session = await InferenceSession.create(path.join(options.modelDir, 'model.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Threads that wait by spinning would take the CPU from the queries they share it with.
    ...(threads > 1 ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  });

  const encode = (text: string): number[] => {
    return truncateIds(tokenizer.encode(text).ids, maxTokens, sepId);
  };

  const run = async (sequences: number[][]): Promise<Float32Array> => {
    const { inputIds, attentionMask } = paddedBatch(sequences);
    const output = await session.run({
      input_ids: inputIds,
      attention_mask: attentionMask,
    });
    return output.embeddings!.data as Float32Array;
  };

  return {
    id: MINILM_ID,
    dimension: DIMENSION,
    async embed(texts) {
      const encoded = texts.map(encode);
      const order = encoded
        .map((_, i) => i)
        .sort((a, b) => encoded[a]!.length - encoded[b]!.length);
      const vectors: number[][] = new Array<number[]>(texts.length);
      for (let start = 0; start < order.length; start += SUB_BATCH) {
        const batch = order.slice(start, start + SUB_BATCH);
        const data = await run(batch.map((i) => encoded[i]!));
        batch.forEach((textIndex, row) => {
          vectors[textIndex] = unit(data.subarray(row * DIMENSION, (row + 1) * DIMENSION));
        });
      }
      return vectors;
    },
    close: () => session.release(),
  };
}

/** The vector in float64, rescaled to length 1 (the model's float32 normalisation is off by ~1e-7). */
function unit(values: Float32Array): number[] {
  const vector = Array.from(values);
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm > 0 ? vector.map((value) => value / norm) : vector;
}
