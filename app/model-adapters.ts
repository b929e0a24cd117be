import fs from 'node:fs/promises';
import path from 'node:path';
import type { Embedder } from '../core/ports/embedder.ts';
import type { LanguageModel } from '../core/ports/language-model.ts';
import { DEFAULT_E5_DIR, DEFAULT_MINILM_DIR, type Config } from '../infra/config.ts';
import { createGeminiEmbedder } from '../infra/gemini/gemini-embedder.ts';
import { createGeminiLanguageModel } from '../infra/gemini/gemini-language-model.ts';
import { ensureE5Model } from '../infra/local/e5/install.ts';
import { createHashingEmbedder } from '../infra/local/hashing-embedder.ts';
import {
  LOCAL_MODEL_SPACES,
  type LocalEmbedder,
  type LocalModelName,
} from '../infra/local/local-model.ts';
import { ensureMiniLmModel } from '../infra/local/minilm/install.ts';
import { createThreadedEmbedder } from '../infra/local/threaded-embedder.ts';
import { projectRoot } from '../infra/project-root.ts';

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
  | 'E5_MODEL_DIR'
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
 * sentence model, e5 unless `EMBEDDER=minilm`).
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
    } else if (config.embedderKind === 'e5' || config.embedderKind === 'minilm') {
      const local = await sharedLocalModel(
        config.embedderKind,
        localModelDir(config, config.embedderKind),
        config.EMBED_THREADS,
      );
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

/** The configured directory of a local model. */
function localModelDir(
  config: Pick<Config, 'MINILM_MODEL_DIR' | 'E5_MODEL_DIR'>,
  model: LocalModelName,
) {
  return model === 'e5' ? config.E5_MODEL_DIR : config.MINILM_MODEL_DIR;
}

/**
 * Installs the local sentence model the configuration uses, when it is to
 * live in its default directory (a directory set by `E5_MODEL_DIR` or
 * `MINILM_MODEL_DIR` is the operator's, and is only read). e5 takes seconds
 * (a 25 MB artifact); MiniLM a few minutes (converted to ONNX), once.
 */
export async function ensureLocalModel(
  config: Pick<Config, 'embedderKind' | 'MINILM_MODEL_DIR' | 'E5_MODEL_DIR'>,
  log: (msg: string) => void,
): Promise<void> {
  if (config.embedderKind === 'e5' && config.E5_MODEL_DIR === DEFAULT_E5_DIR) {
    await ensureE5Model({ projectRoot, dir: DEFAULT_E5_DIR, log });
  } else if (config.embedderKind === 'minilm' && config.MINILM_MODEL_DIR === DEFAULT_MINILM_DIR) {
    await ensureMiniLmModel({ projectRoot, log });
  }
}

/**
 * Embedders for the spaces of the local models, by space id, for a store
 * whose serving space is another model's than the configured one (a store
 * indexed with MiniLM moving to e5): its searches keep reading the old space
 * until the new one is built. Null for other ids and for a model not
 * installed here. Sessions are shared with the adapters and started on first
 * use; `close()` releases them.
 */
export function createLocalSpaceEmbedders(
  config: Pick<Config, 'MINILM_MODEL_DIR' | 'E5_MODEL_DIR' | 'EMBED_THREADS'>,
) {
  const byId = new Map<string, Promise<Awaited<ReturnType<typeof sharedLocalModel>> | null>>();
  const open = async (model: LocalModelName) => {
    const dir = localModelDir(config, model);
    try {
      await fs.access(path.join(dir, 'model.onnx'));
    } catch {
      return null;
    }
    return sharedLocalModel(model, dir, config.EMBED_THREADS);
  };
  return {
    async embedderFor(spaceId: string): Promise<Embedder | null> {
      const model = (Object.keys(LOCAL_MODEL_SPACES) as LocalModelName[]).find(
        (name) => LOCAL_MODEL_SPACES[name].id === spaceId,
      );
      if (!model) return null;
      let shared = byId.get(spaceId);
      if (!shared) {
        shared = open(model);
        byId.set(spaceId, shared);
        shared.catch(() => byId.delete(spaceId));
      }
      return (await shared)?.embedder ?? null;
    },
    async close() {
      const all = [...byId.values()];
      byId.clear();
      for (const shared of all) await (await shared.catch(() => null))?.release();
    },
  };
}

/**
 * The nice value of the thread embedding for indexing and re-embedding: at 5
 * (a third of a nice-0 thread's weight) a query's embedding and the event loop
 * win the CPU when both want it, and indexing still gets enough to keep up
 * with a steady stream of saves. As the embedded Temporal dev server's.
 */
const BACKGROUND_EMBED_NICENESS = 5;

// One model session per process, model and directory, however many engines a process builds
// (tests build many): the session holds about 100 MB and is safe to share.
const sessions = new Map<string, { embedder: Promise<LocalEmbedder>; users: number }>();

async function sharedLocalModel(model: LocalModelName, dir: string, threads: number) {
  const key = `${model}|${path.resolve(dir)}|${threads}`;
  let entry = sessions.get(key);
  if (!entry) {
    entry = {
      embedder: (async () => {
        try {
          await fs.access(path.join(dir, 'model.onnx'));
        } catch {
          const variable = model === 'e5' ? 'E5_MODEL_DIR' : 'MINILM_MODEL_DIR';
          throw new Error(
            `the local embedding model (${model}) is not installed at ${dir}: run \`npm run setup\` (npm start and npm test install it), or set ${variable} or EMBEDDER`,
          );
        }
        // Queries are one short text: one thread each. Indexing may use every core when the
        // machine is idle (an import, a re-embed, a catch-up), and on a busy machine yields the
        // CPU to the queries and the event loop serving them (nice, threads that do not spin).
        return createThreadedEmbedder({
          model,
          dir,
          threads: { interactive: 1, background: threads },
          niceness: { background: BACKGROUND_EMBED_NICENESS },
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
