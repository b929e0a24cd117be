import fs from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { embedKind, type EmbedKind } from '../../../core/ports/embedder.ts';
import type { LocalEmbedder } from '../local-model.ts';
import { e5ModelFiles } from './e5-model.ts';
import { paddedBatch, truncateIds } from '../token-batch.ts';

/** The model's hidden size, and so the embedding length. */
export const E5_DIMENSION = 384;
/** The embedding space's id: a store moves to a new space when the model changes. */
export const E5_ID = `local:e5-small-v2-q@${E5_DIMENSION}`;
/** e5 was trained with sequences of up to 512 tokens, its position limit. */
const POSITION_LIMIT = 512;
/** Texts per model call; length-sorted, like MiniLM's, so a call pads little. */
const SUB_BATCH = 8;
/** e5 was trained asymmetrically: without these prefixes its retrieval recall drops. */
export const E5_PREFIXES: Record<EmbedKind, string> = { query: 'query: ', passage: 'passage: ' };
/**
 * The jar ships tokenizer.json only; this is the BERT uncased configuration
 * e5-small-v2 publishes beside it (its WordPiece vocabulary, normaliser and
 * post-processor are MiniLM's).
 */
const TOKENIZER_CONFIG = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
  model_max_length: POSITION_LIMIT,
};

/** Options of {@link createE5Embedder}. */
export interface E5EmbedderOptions {
  /** A directory from `ensureE5Model`: model.onnx and tokenizer.json. */
  modelDir: string;
  /** Threads one model call may use (default 1: the product runs on one core). */
  threads?: number;
  /** Longer texts (prefix included) are cut to this many tokens, [CLS] and [SEP] included (default and at most 512). */
  maxTokens?: number;
}

/**
 * e5-small-v2, quantised to int8, run locally with onnxruntime
 * (`local:e5-small-v2-q@384`). Questions are embedded as `query: …`, stored
 * texts as `passage: …` (the `kind` of each call, `passage` by default). The
 * graph returns token states: they are mean-pooled over the attention mask
 * and scaled to unit length here.
 */
export async function createE5Embedder(options: E5EmbedderOptions): Promise<LocalEmbedder> {
  const threads = options.threads ?? 1;
  const maxTokens = options.maxTokens ?? POSITION_LIMIT;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError('e5 embedder threads must be a positive integer');
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > POSITION_LIMIT) {
    throw new RangeError(`e5 embedder maxTokens must be an integer in 2..${POSITION_LIMIT}`);
  }
  const files = e5ModelFiles(options.modelDir);
  const tokenizer = new Tokenizer(
    JSON.parse(await fs.readFile(files.tokenizerPath, 'utf8')) as object,
    TOKENIZER_CONFIG,
  );
  const sepId = tokenizer.token_to_id('[SEP]');
  if (sepId === undefined) throw new Error(`${options.modelDir}: tokenizer has no [SEP] token`);
  const session = await InferenceSession.create(files.modelPath, {
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

  const run = async (sequences: number[][]): Promise<number[][]> => {
    const { length, dims, inputIds, attentionMask } = paddedBatch(sequences);
    const output = await session.run({
      input_ids: inputIds,
      attention_mask: attentionMask,
      token_type_ids: new Tensor('int64', new BigInt64Array(inputIds.size), dims),
    });
    const states = output.last_hidden_state!.data as Float32Array;
    return sequences.map((sequence, row) =>
      meanPooledUnit(states, row * length * E5_DIMENSION, sequence.length),
    );
  };

  return {
    id: E5_ID,
    dimension: E5_DIMENSION,
    async embed(texts, embedOptions) {
      const prefix = E5_PREFIXES[embedKind(embedOptions)];
      const encoded = texts.map((text) => encode(prefix + text));
      const order = encoded
        .map((_, i) => i)
        .sort((a, b) => encoded[a]!.length - encoded[b]!.length);
      const vectors: number[][] = new Array<number[]>(texts.length);
      for (let start = 0; start < order.length; start += SUB_BATCH) {
        const batch = order.slice(start, start + SUB_BATCH);
        const pooled = await run(batch.map((i) => encoded[i]!));
        batch.forEach((textIndex, row) => (vectors[textIndex] = pooled[row]!));
      }
      return vectors;
    },
    close: () => session.release(),
  };
}

/**
 * The mean of a row's first `tokens` token states (the unpadded ones: rows
 * are padded at the end), in float64, scaled to length 1.
 */
function meanPooledUnit(states: Float32Array, offset: number, tokens: number): number[] {
  const sum = new Float64Array(E5_DIMENSION);
  for (let token = 0; token < tokens; token++) {
    const at = offset + token * E5_DIMENSION;
    for (let d = 0; d < E5_DIMENSION; d++) sum[d] = sum[d]! + states[at + d]!;
  }
  let norm = 0;
  for (let d = 0; d < E5_DIMENSION; d++) norm += sum[d]! * sum[d]!;
  norm = Math.sqrt(norm);
  // The mean's 1/tokens cancels in the normalisation.
  return Array.from(sum, (value) => (norm > 0 ? value / norm : value));
}
