import { beforeEach } from 'node:test';
import { createModelAdapters, type ModelAdapters } from '../../app/model-adapters.ts';
import type { MemoryGraph } from '../../core/ports/graph-store.ts';
import { DEFAULT_E5_DIR, DEFAULT_MINILM_DIR } from '../../infra/config.ts';
import {
  startGeminiEmulator,
  type EmulatorGenerateRequest,
  type EmulatorResponder,
  type GeminiEmulator,
} from '../../tools/gemini-emulator/emulator.ts';
import { closeOnFailure } from './close-on-failure.ts';
import { lateBound, suiteFixture } from './late-bound.ts';
import { createTestEngine, type TestEngine } from './test-engine.ts';

/** The planner's JSON answer to a planning prompt. */
export interface ModelPlan {
  strategy: string;
  queries: string[];
  include_narrative: boolean;
  save_worthy: boolean;
}

/** A deep-understanding plan that searches for `queries` and saves nothing. */
export const deepPlan = (queries: string[], includeNarrative = false): ModelPlan => ({
  strategy: 'deep_understanding',
  queries,
  include_narrative: includeNarrative,
  save_worthy: false,
});

type Answer<T> = T | ((request: EmulatorGenerateRequest) => T);
const answer = <T>(a: Answer<T>, request: EmulatorGenerateRequest): T =>
  typeof a === 'function' ? (a as (request: EmulatorGenerateRequest) => T)(request) : a;

/** Planning prompts get `plan`; anything else (entity extraction) gets `graph`, empty by default. */
export function planningResponder(
  plan: Answer<ModelPlan>,
  graph: Answer<MemoryGraph> = { entities: [], relations: [] },
): EmulatorResponder {
  return (request) =>
    JSON.stringify(
      request.system?.includes('You plan how') ? answer(plan, request) : answer(graph, request),
    );
}

export interface EmulatedEngine {
  emulator: GeminiEmulator;
  engine: TestEngine;
  /** Closes the engine, then the emulator. */
  close(): Promise<void>;
}

/**
 * The Gemini emulator answering with `responder`, and a PGlite engine whose
 * model and (64-dimension) embedder are the emulator's; `env` adds settings.
 */
export async function startEmulatedEngine(
  responder: EmulatorResponder,
  env: Record<string, string> = {},
): Promise<EmulatedEngine> {
  const emulator = await startGeminiEmulator({ port: 0 });
  emulator.configure({ responder });
  const engine = await closeOnFailure(
    () => emulator.close(),
    () =>
      createTestEngine('pglite', {
        GEMINI_BASE_URL: emulator.url,
        GEMINI_EMBEDDING_DIMENSION: '64',
        ...env,
      }),
  );
  return {
    emulator,
    engine,
    async close() {
      await engine.close();
      await emulator.close();
    },
  };
}

const MODEL_SETTINGS = {
  MINILM_MODEL_DIR: DEFAULT_MINILM_DIR,
  E5_MODEL_DIR: DEFAULT_E5_DIR,
  EMBED_THREADS: 1,
  GEMINI_API_KEY: undefined,
  GEMINI_MODEL: 'gemini-2.5-flash',
  GEMINI_EMBEDDING_MODEL: 'text-embedding-004',
  GEMINI_TIMEOUT_MS: 5000,
};

/** The model adapters with nothing configured: no model, the local embedder. */
export const localModelAdapters = (): Promise<ModelAdapters> =>
  createModelAdapters({
    ...MODEL_SETTINGS,
    embedderKind: 'e5',
    GEMINI_BASE_URL: undefined,
    GEMINI_EMBEDDING_DIMENSION: 768,
  });

/**
 * For the current suite (call inside `describe`): the Gemini emulator and the
 * real Gemini adapters pointed at it, with 64-dimension embeddings. Before
 * each test the emulator forgets its responder, failures, latency and counts.
 */
export function useEmulatedModel(): { emulator: GeminiEmulator; adapters: ModelAdapters } {
  const model = suiteFixture(
    'the emulated model',
    async () => {
      const emulator = await startGeminiEmulator({ port: 0 });
      const adapters = await closeOnFailure(
        () => emulator.close(),
        () =>
          createModelAdapters({
            ...MODEL_SETTINGS,
            embedderKind: 'gemini',
            GEMINI_BASE_URL: emulator.url,
            GEMINI_EMBEDDING_DIMENSION: 64,
          }),
      );
      return { emulator, adapters };
    },
    async ({ emulator, adapters }) => {
      await adapters.close();
      await emulator.close();
    },
  );
  beforeEach(() => {
    model.emulator.configure({
      responder: null,
      methods: { all: { failures: null, latency: null } },
    });
    model.emulator.resetStats();
  });
  return { emulator: lateBound(() => model.emulator), adapters: lateBound(() => model.adapters) };
}
