import fs from 'node:fs/promises';
import path from 'node:path';
import type { Embedder } from '../core/ports/embedder.ts';
import type { LanguageModel } from '../core/ports/language-model.ts';
import type { Config } from '../infra/config.ts';
import { createGeminiEmbedder } from '../infra/gemini/gemini-embedder.ts';
import { createGeminiLanguageModel } from '../infra/gemini/gemini-language-model.ts';
import { createHashingEmbedder } from '../infra/local/hashing-embedder.ts';
import type { MiniLmEmbedder } from '../infra/local/minilm/minilm-embedder.ts';
import { createThreadedMiniLm } from '../infra/local/minilm/threaded-minilm.ts';

export interface ModelAdapters {
  /** Null when no model is configured: callers use their local fallbacks. */
  model: LanguageModel | null;
  embedder: Embedder;
  close(): Promise<void>;
}

type ModelSettings = Pick<
  Config,
  | 'embedderKind'
  | 'MINILM_MODEL_DIR'
  | 'EMBED_THREADS'
  | 'GEMINI_API_KEY'
  | 'GEMINI_BASE_URL'
  | 'GEMINI_MODEL'
  | 'GEMINI_EMBEDDING_MODEL'
  | 'GEMINI_EMBEDDING_DIMENSION'
  | 'GEMINI_TIMEOUT_MS'
>;

/**
 * The language model: Gemini (Google's, or any endpoint at `GEMINI_BASE_URL`
 * such as the emulator) when configured, else none. The embedder:
 * `EMBEDDER` (`auto` is Gemini's when a model is configured, else the local
 * sentence model).
 */
export async function createModelAdapters(config: ModelSettings): Promise<ModelAdapters> {
  const connection = {
    ...(config.GEMINI_API_KEY ? { apiKey: config.GEMINI_API_KEY } : {}),
    ...(config.GEMINI_BASE_URL ? { baseUrl: config.GEMINI_BASE_URL } : {}),
  };
  const closers: (() => Promise<void>)[] = [];
  try {
    const model =
      config.GEMINI_API_KEY || config.GEMINI_BASE_URL
        ? await createGeminiLanguageModel({
            ...connection,
            model: config.GEMINI_MODEL,
            timeoutMs: config.GEMINI_TIMEOUT_MS,
          })
        : null;
    if (model) closers.push(() => model.close());
    let embedder: Embedder;
    if (config.embedderKind === 'gemini') {
      const gemini = await createGeminiEmbedder({
        ...connection,
        model: config.GEMINI_EMBEDDING_MODEL,
        dimension: config.GEMINI_EMBEDDING_DIMENSION,
        timeoutMs: config.GEMINI_TIMEOUT_MS,
      });
      closers.push(() => gemini.close());
      embedder = gemini;
    } else if (config.embedderKind === 'local') {
      const local = await sharedMiniLm(config.MINILM_MODEL_DIR, config.EMBED_THREADS);
      closers.push(() => local.release());
      embedder = local.embedder;
    } else {
      embedder = createHashingEmbedder({ dimension: 384 });
    }
    return {
      model,
      embedder,
      async close() {
        for (const close of closers.splice(0).reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    throw error;
  }
}

// One model session per process and model directory, however many engines a process builds
// (tests build many): the session holds about 100 MB and is safe to share.
const sessions = new Map<string, { embedder: Promise<MiniLmEmbedder>; users: number }>();

async function sharedMiniLm(modelDir: string, threads: number) {
  const key = `${path.resolve(modelDir)}|${threads}`;
  let entry = sessions.get(key);
  if (!entry) {
    entry = {
      embedder: (async () => {
        try {
          await fs.access(path.join(modelDir, 'model.onnx'));
        } catch {
          throw new Error(
            `the local embedding model is not installed at ${modelDir}: run \`npm run setup\` (npm start and npm test install it), or set MINILM_MODEL_DIR or EMBEDDER`,
          );
        }
        // Queries are one short text: one thread each; indexing leaves a core to the queries.
        return createThreadedMiniLm({
          modelDir,
          threads: { interactive: 1, background: Math.max(1, threads - 1) },
        });
      })(),
      users: 0,
    };
    sessions.set(key, entry);
    entry.embedder.catch(() => sessions.delete(key));
  }
  const shared = entry;
  const embedder = await shared.embedder;
  shared.users++;
  let released = false;
  return {
    embedder,
    async release() {
      if (released) return;
      released = true;
      if (--shared.users === 0 && sessions.get(key) === shared) {
        sessions.delete(key);
        await embedder.close();
      }
    },
  };
}
