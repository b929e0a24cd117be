/**
 * Port for text embeddings. Vectors are unit length, `dimension` long, and
 * come back in the order of the input texts.
 */
export interface Embedder {
  /** Identifies the embedding space, such as `gemini:text-embedding-004@768`. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[]): Promise<number[][]>;
}
