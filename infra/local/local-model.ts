import type { Embedder } from '../../core/ports/embedder.ts';
import { createE5Embedder, E5_DIMENSION, E5_ID } from './e5/e5-embedder.ts';
import { createMiniLmEmbedder, MINILM_DIMENSION, MINILM_ID } from './minilm/minilm-embedder.ts';

/** The sentence models the product runs locally with onnxruntime. */
export type LocalModelName = 'minilm' | 'e5';

/** An embedder holding a model session (or threads), released by `close()`. */
export type LocalEmbedder = Embedder & { close(): Promise<void> };

/** Which local model to load, from where, on how many threads: serialisable, for a worker thread. */
export interface LocalModelSpec {
  model: LocalModelName;
  /** The installed model's directory (`ensureE5Model` or `ensureMiniLmModel`). */
  dir: string;
  /** Intra-op threads of the model session. */
  threads: number;
  /**
   * How much nicer than the process the thread running the session (and its
   * intra-op threads) is (Linux: per thread; elsewhere ignored), so work that
   * can wait yields the CPU to work that cannot.
   */
  niceness?: number;
}

/** Each local model's embedding space, known without loading it. */
export const LOCAL_MODEL_SPACES: Record<LocalModelName, { id: string; dimension: number }> = {
  minilm: { id: MINILM_ID, dimension: MINILM_DIMENSION },
  e5: { id: E5_ID, dimension: E5_DIMENSION },
};

/** Loads the model a spec names, in this thread. */
export function createLocalEmbedder(spec: LocalModelSpec): Promise<LocalEmbedder> {
  const options = { modelDir: spec.dir, threads: spec.threads };
  return spec.model === 'e5' ? createE5Embedder(options) : createMiniLmEmbedder(options);
}
