// Where the CPU of embedding a passage goes (`npm run bench:embed -- --breakdown`): the
// tokenizer, the model call alone (a bare onnxruntime session fed the embedder's own
// sub-batches), the rest of the embedder in its thread (padding, pooling), and the hop
// to and from the worker thread. CPU time of this process, so a busy machine inflates
// the figures less than wall time; the best of `rounds` rounds, each stage after the other.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { withPriority } from '../../core/concurrency/work-priority.ts';
import { createE5Embedder } from '../../infra/local/e5/e5-embedder.ts';
import type { LocalEmbedder } from '../../infra/local/local-model.ts';
import { paddedBatch } from '../../infra/local/token-batch.ts';
import { roundTo } from '../kit/report-files.ts';

/** The e5 embedder's sub-batch: texts per model call, length-sorted within a call. */
const SUB_BATCH = 8;

export interface Breakdown {
  /** CPU ms per memory. */
  tokenizeMs: number;
  modelMs: number;
  restInThreadMs: number;
  threadHopMs: number;
  /** Padded token positions the model computed that no text needed, as a share. */
  paddingShare: number;
  meanTokens: number;
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function cpuPerItem(items: number, rounds: number, fn: () => Promise<unknown>) {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const started = cpuMs();
    await fn();
    best = Math.min(best, (cpuMs() - started) / items);
  }
  return best;
}

/** Calls of `batch` texts, each split as the embedder splits it: length-sorted runs of 8. */
function subBatches(ids: number[][], batch: number): number[][][] {
  const calls: number[][][] = [];
  for (let start = 0; start < ids.length; start += batch) {
    const call = ids.slice(start, start + batch).sort((a, b) => a.length - b.length);
    for (let at = 0; at < call.length; at += SUB_BATCH) calls.push(call.slice(at, at + SUB_BATCH));
  }
  return calls;
}

export async function measureBreakdown(options: {
  modelDir: string;
  memories: string[];
  batch: number;
  rounds: number;
  /** CPU ms per memory of the threaded embedder, measured by the caller. */
  threadedMs: number;
}): Promise<Breakdown> {
  const { modelDir, memories, batch, rounds } = options;
  const tokenizer = new Tokenizer(
    JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as object,
    { do_lower_case: true, model_max_length: 512 },
  );
  const passages = memories.map((m) => `passage: ${m}`);
  let ids: number[][] = [];
  const tokenizeMs = await cpuPerItem(memories.length, rounds, () => {
    ids = passages.map((p) => tokenizer.encode(p).ids);
    return Promise.resolve();
  });
  const calls = subBatches(ids, batch);
  const session = await InferenceSession.create(path.join(modelDir, 'model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  let modelMs: number;
  try {
    modelMs = await cpuPerItem(memories.length, rounds, async () => {
      for (const call of calls) {
        const { dims, inputIds, attentionMask } = paddedBatch(call);
        await session.run({
          input_ids: inputIds,
          attention_mask: attentionMask,
          token_type_ids: new Tensor('int64', new BigInt64Array(inputIds.size), dims),
        });
      }
    });
  } finally {
    await session.release();
  }
  const direct: LocalEmbedder = await createE5Embedder({ modelDir });
  let directMs: number;
  try {
    directMs = await cpuPerItem(memories.length, rounds, async () => {
      for (let start = 0; start < memories.length; start += batch) {
        await withPriority('background', () => direct.embed(memories.slice(start, start + batch)));
      }
    });
  } finally {
    await direct.close();
  }
  const tokens = ids.reduce((sum, seq) => sum + seq.length, 0);
  const computed = calls.reduce(
    (sum, call) => sum + call.length * Math.max(...call.map((seq) => seq.length)),
    0,
  );
  return {
    tokenizeMs: roundTo(tokenizeMs, 3),
    modelMs: roundTo(modelMs, 3),
    restInThreadMs: roundTo(directMs - modelMs - tokenizeMs, 3),
    threadHopMs: roundTo(options.threadedMs - directMs, 3),
    paddingShare: roundTo(1 - tokens / computed, 4),
    meanTokens: roundTo(tokens / ids.length, 1),
  };
}
