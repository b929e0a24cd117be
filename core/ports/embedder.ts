/**
 * What a text is to an embedder: a question asked of the memories (`query`)
 * or a memory to be found (`passage`). Models trained asymmetrically (e5's
 * `query: ` / `passage: ` prefixes) embed the two differently; others ignore it.
 */
export type EmbedKind = 'query' | 'passage';

/** Options of {@link Embedder.embed}. */
export interface EmbedOptions {
  /** Default `passage`: everything but a search's own question is stored text. */
  kind?: EmbedKind;
}

/**
 * Port for text embeddings. Vectors are unit length, `dimension` long, and
 * come back in the order of the input texts. Wrappers pass `options` on.
 */
export interface Embedder {
  /** Identifies the embedding space, such as `gemini:text-embedding-004@768`. */
  readonly id: string;
  readonly dimension: number;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<number[][]>;
}

/** The kind `options` asks for, `passage` when it names none. */
export const embedKind = (options?: EmbedOptions): EmbedKind => options?.kind ?? 'passage';
