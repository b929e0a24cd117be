import { Tensor } from 'onnxruntime-node';

/** Token ids cut to `maxTokens`, keeping the closing [SEP] the models were trained with. */
export function truncateIds(ids: number[], maxTokens: number, sepId: number): number[] {
  return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), sepId];
}

/**
 * The `input_ids` and `attention_mask` tensors of a batch of token sequences,
 * each padded with zeros to the longest; `length` is that padded length.
 */
export function paddedBatch(sequences: number[][]) {
  const length = Math.max(...sequences.map((ids) => ids.length));
  const ids = new BigInt64Array(sequences.length * length);
  const mask = new BigInt64Array(sequences.length * length);
  sequences.forEach((sequence, row) => {
    sequence.forEach((id, column) => {
      ids[row * length + column] = BigInt(id);
      mask[row * length + column] = 1n;
    });
  });
  const dims = [sequences.length, length];
  return {
    length,
    dims,
    inputIds: new Tensor('int64', ids, dims),
    attentionMask: new Tensor('int64', mask, dims),
  };
}
