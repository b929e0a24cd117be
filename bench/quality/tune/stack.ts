// The tuning's corpus in the product's own retrieval stack, in this process: the
// configured embedder (e5 by default), pgvector in PGlite, the SQL full-text search
// and the graph tables, every LoCoMo turn saved and indexed the way the product's
// indexing workflow does it (the same indexer steps, without Temporal).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngineAdapters, type EngineAdapters } from '../../../app/engine-adapters.ts';
import { ensureLocalModel } from '../../../app/model-adapters.ts';
import type { StrategyDeps } from '../../../core/context/strategies.ts';
import { createIndexer } from '../../../core/indexing/indexer.ts';
import {
  createTextSearcher,
  createVectorSearcher,
} from '../../../core/retrieval/batched-search.ts';
import type { TimedMemory } from '../../../core/retrieval/time-signal.ts';
import { loadConfig } from '../../../infra/config.ts';
import { createLogger } from '../../../infra/logger.ts';
import { checkInterrupted, cleanups } from '../../bench-kit.ts';
import type { LocomoConversation } from '../../locomo.ts';
import { datedTurnMemory } from '../session-time.ts';

const SAVE_BATCH = 100;
const NO_BATCHING = { enabled: false, windowMs: 1, maxBatch: 1 };

/** One conversation's user in the stack and the way back from its memories to turns and times. */
export interface StackUser {
  conversation: LocomoConversation;
  userId: string;
  /** Memory id → the dia_ids of the turns with that content. */
  diaIds: Map<string, string[]>;
  /** Memory id → what the time signal reads of it (its content and dates). */
  timed: Map<string, TimedMemory>;
}

export interface TuneStack {
  /** The retrievers, and the store the context path's strategies read recent memories from. */
  deps: StrategyDeps;
  /** The serving embedding space's id (e.g. `local:e5-small-v2-q@384`). */
  embedder: string;
  users: StackUser[];
  close(): Promise<void>;
}

/**
 * Opens the product's adapters on a fresh PGlite directory with `env` (the
 * embedder switch), saves every conversation's turns and indexes them.
 */
export async function openTuneStack(
  conversations: LocomoConversation[],
  env: Record<string, string>,
  log: (message: string) => void,
): Promise<TuneStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tune-fusion-'));
  const removeDir = async () => fs.rmSync(dataDir, { recursive: true, force: true });
  cleanups.push({ name: 'tune data dir', run: removeDir });
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    STORE: 'pglite',
    ...env,
  });
  await ensureLocalModel(config, log);
  const adapters = await createEngineAdapters(config, createLogger('silent'));
  const close = async () => {
    await adapters.close();
    await removeDir();
  };
  cleanups.push({ name: 'tune adapters', run: close });
  const space = adapters.spaces.serving();
  if (!space) throw new Error('no serving embedding space after opening the adapters');
  const users: StackUser[] = [];
  for (const conversation of conversations) {
    checkInterrupted();
    const started = Date.now();
    users.push(await saveAndIndex(adapters, conversation));
    log(`indexed ${conversation.id}: ${conversation.turns.length} turns in ${((Date.now() - started) / 1000).toFixed(1)} s`); // prettier-ignore
  }
  const deps: StrategyDeps = {
    store: adapters.store,
    graph: adapters.graph,
    text: createTextSearcher((queries) => adapters.store.searchText(queries), NO_BATCHING),
    space: () => ({
      id: space.id,
      embedder: space.embedder,
      vectors: createVectorSearcher(space.index, NO_BATCHING),
    }),
  };
  return { deps, embedder: space.id, users, close };
}

/** Saves a conversation's turns as one user's memories and runs the indexer's steps over them. */
async function saveAndIndex(
  adapters: EngineAdapters,
  conversation: LocomoConversation,
): Promise<StackUser> {
  const { store } = adapters;
  const user = await store.createUser({ name: conversation.id });
  const diaIds = new Map<string, string[]>();
  const timed = new Map<string, TimedMemory>();
  const indexer = createIndexer(adapters);
  for (let i = 0; i < conversation.turns.length; i += SAVE_BATCH) {
    checkInterrupted();
    const turns = conversation.turns.slice(i, i + SAVE_BATCH);
    const saved = await store.insertMemories(user.id, turns.map(datedTurnMemory));
    saved.forEach(({ memory }, j) => {
      diaIds.set(memory.id, [...(diaIds.get(memory.id) ?? []), turns[j]!.diaId]);
      const { content, createdAt, occurredAt } = memory;
      timed.set(memory.id, { content, createdAt, occurredAt });
    });
    const targets = [...new Set(saved.map((s) => s.memory.id))].map((memoryId) => ({
      userId: user.id,
      memoryId,
    }));
    const plans = await indexer.indexVectors(targets);
    await indexer.indexGraphs(targets, { concurrency: 4 });
    await indexer.markIndexedMany(
      targets.flatMap((target, j) => {
        const plan = plans[j]!;
        return plan.kind === 'index' ? [{ target, revision: plan.revision }] : [];
      }),
    );
  }
  return { conversation, userId: user.id, diaIds, timed };
}
