import type { Embedder } from '../../core/ports/embedder.ts';

/** Bigrams count half as much as words: they sharpen phrases without drowning topics. */
const BIGRAM_WEIGHT = 0.5;
const MAX_DIMENSION = 65_536;
/** Feature hashed for texts without words, so even they get a unit vector. */
const EMPTY_FEATURE = '\u0000empty';
const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-cased word tokens of a text (letters and digits of any script). */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
}

/** 32-bit FNV-1a over UTF-16 code units, seeded, with murmur3's avalanche finaliser. */
export function hash32(input: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Signed feature hashing of word unigrams and bigrams, L2-normalised. The
 * same text, dimension and seed always give the same vector; texts sharing
 * words and phrases land close together.
 */
export function hashingVector(text: string, dimension: number, seed = 0): number[] {
  const vector = new Float64Array(dimension);
  const add = (feature: string, weight: number) => {
    const index = hash32(feature, seed) % dimension;
    // A second, independent hash picks the sign so collisions cancel out on average.
    const sign = hash32(feature, seed ^ 0x5bd1e995) & 1 ? 1 : -1;
    vector[index] = (vector[index] ?? 0) + sign * weight;
  };
  const words = tokenize(text);
  words.forEach((word, i) => {
    add(word, 1);
    const next = words[i + 1];
    if (next !== undefined) add(`${word} ${next}`, BIGRAM_WEIGHT);
  });
  let norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  if (norm === 0) {
    add(EMPTY_FEATURE, 1);
    norm = 1;
  }
  return Array.from(vector, (value) => value / norm);
}

/** Options of {@link createHashingEmbedder}. */
export interface HashingEmbedderOptions {
  /** Vector length; 384 matches the local sentence model that will replace it. */
  dimension?: number;
}

/**
 * A deterministic local embedder (feature hashing, no model, no I/O): the
 * no-configuration fallback. It captures shared words and phrases, not
 * meaning. It holds no resources, so it needs no `close()`.
 */
export function createHashingEmbedder(options: HashingEmbedderOptions = {}): Embedder {
  const dimension = options.dimension ?? 384;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    throw new RangeError(`hashing embedder dimension must be an integer in 1..${MAX_DIMENSION}`);
  }
  return {
    id: `local:hashing@${dimension}`,
    dimension,
    embed(texts) {
      return Promise.resolve(texts.map((text) => hashingVector(text, dimension)));
    },
  };
}
