// activities/: Temporal activities, built by one factory (`createActivities`)
// over the ports, as the dependency-injection sample does; the worker passes
// the real clients in. May import core/ and loadtest/ (the load-test
// activities drive it); workflows import this folder as types only.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { AppError } from '../core/errors.ts';
import type { EntityExtractor } from '../core/extraction/entity-extractor.ts';
import {
  createIndexer,
  type BatchOutcome,
  type BatchTarget,
  type IndexTarget,
} from '../core/indexing/indexer.ts';
import { requeueStaleIndexing, type RequeueStaleInput } from '../core/indexing/requeue.ts';
import type { GraphStore } from '../core/ports/graph-store.ts';
import type { IndexingQueue } from '../core/ports/indexing-queue.ts';
import type { LanguageModel } from '../core/ports/language-model.ts';
import type { NarrativeQueue } from '../core/ports/narrative-queue.ts';
import type { PortabilityStore } from '../core/ports/portability-store.ts';
import type { Narrator } from '../core/narrative/narrator.ts';
import type { RelationalStore, SelfCheck } from '../core/ports/relational-store.ts';
import type { VectorSpaces } from '../core/ports/vector-space.ts';
import { createConsolidationActivities } from './consolidation-activities.ts';
import { heartbeating, progressBeat } from './heartbeat.ts';
import { createImportActivities } from './import-activities.ts';
import { createLoadTestActivities, type LoadTestDeps } from './loadtest-activities.ts';
import { createReembedActivities } from './reembed-activities.ts';
import { createNarrativeActivities, type MemoryUsageReader } from './narrative-activities.ts';

/** The ports activities run over; the worker builds the real ones. */
export interface ActivityDeps {
  store: RelationalStore;
  /** The embedding spaces indexing writes to (and a rebuild fills). */
  spaces: VectorSpaces;
  graph: GraphStore;
  extractor: EntityExtractor;
  indexingQueue: IndexingQueue;
  /** Imports' memories, for the runs that index them; absent, those runs fail. */
  portability?: PortabilityStore;
  /** Narratives are written with it when no `narrator` is given; null writes them locally. */
  model?: LanguageModel | null;
  /** Writes narratives; defaults to one over `model` with a 12 s timeout. */
  narrator?: Narrator;
  /** The worker's memory against its budget; defaults to this process's RSS against 2 GB. */
  memoryUsage?: MemoryUsageReader;
  /** Where the narrative feeder's requests go (signal-with-start on the scheduler). */
  narrativeQueue?: NarrativeQueue;
  /** Load tests: the target's admin key and where reports go; absent, they refuse to run. */
  loadTest?: LoadTestDeps;
  /**
   * Removes retired embedding spaces nobody reads any more (the managed
   * spaces' `dropRetired`); absent, retired spaces are kept.
   */
  dropRetiredSpaces?: (graceMs: number) => Promise<string[]>;
}

export interface RecordSelfCheckInput {
  workflowId: string;
  note: string;
}

/**
 * Reconciler requests of one revision before a memory is marked failed: with
 * the default interval, about 20 minutes of a memory nobody could index.
 */
const DEFAULT_MAX_INDEX_REQUESTS = 20;

/** Extraction groups (one model call each) one batched activity runs at once. */
const GRAPH_CONCURRENCY = 8;

// Bad input will fail the same way on every retry: stop retrying at once.
async function nonRetryableOnBadInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.code === 'bad_request') {
      throw ApplicationFailure.nonRetryable(error.message, 'BadInput');
    }
    throw error;
  }
}

/**
 * Builds every activity over the given ports, as in Temporal's
 * dependency-injection sample: activities stay thin, logic lives in `core/`.
 */
export function createActivities(deps: ActivityDeps) {
  const { store, indexingQueue } = deps;
  const indexer = createIndexer(deps);
  return {
    ...createNarrativeActivities(deps),
    ...createReembedActivities(deps),
    ...createConsolidationActivities(deps),
    ...createLoadTestActivities(deps),
    ...createImportActivities(deps),

    /** Writes one self-check row (idempotent per workflow id) and returns it. */
    async recordSelfCheck(input: RecordSelfCheckInput): Promise<SelfCheck> {
      if (!input.workflowId || input.note.length > 1000) {
        throw ApplicationFailure.nonRetryable('self-check input is invalid', 'BadInput');
      }
      return store.recordSelfCheck(input);
    },

    /**
     * Indexes a batch of memories of one or several users in one activity (vectors, graphs,
     * marks, deletes: each step idempotent); refused content is marked failed inside, so only
     * outages fail it (and are retried). Returns what changed meanwhile, to take again.
     */
    indexBatch: (batch: BatchTarget[]): Promise<BatchOutcome> => {
      const context = Context.current();
      return heartbeating(() =>
        indexer.indexBatch(batch, {
          graphConcurrency: GRAPH_CONCURRENCY,
          onProgress: progressBeat(() => context.heartbeat()),
        }),
      );
    },
    indexVector: (target: IndexTarget, force?: boolean) =>
      nonRetryableOnBadInput(() => indexer.indexVector(target, force)),
    /** Embeds and upserts several memories at once; `force`: ids re-embedded even if indexed. */
    indexVectors: (targets: IndexTarget[], force?: string[]) =>
      heartbeating(() => nonRetryableOnBadInput(() => indexer.indexVectors(targets, force))),
    /** Extracts several memories' graphs at once (extraction may wait on the model), writes them together. */
    indexGraphs: (targets: IndexTarget[]) =>
      nonRetryableOnBadInput(() =>
        indexer.indexGraphs(targets, {
          concurrency: GRAPH_CONCURRENCY,
          onExtracted: progressBeat(),
        }),
      ),
    markIndexedBatch: (items: { target: IndexTarget; revision: number }[]) =>
      indexer.markIndexedMany(items),
    /** Hands memories to their users' indexing runs (forced: they re-embed even if marked indexed). */
    requestIndexing: (input: { targets: IndexTarget[]; force: boolean }) =>
      indexingQueue.request(input.targets, { force: input.force }),
    indexGraph: (target: IndexTarget) => nonRetryableOnBadInput(() => indexer.indexGraph(target)),
    markIndexed: (target: IndexTarget, revision: number) => indexer.markIndexed(target, revision),
    forgetMemory: (target: IndexTarget) => indexer.forget(target),
    markIndexFailed: (target: IndexTarget) => store.markIndexFailed(target.userId, target.memoryId),

    /**
     * Re-requests indexing nobody finished (saves whose start was lost, stalled
     * runs, deletes), through each user's indexing run; gives up on a memory
     * (failed, see `POST /v1/admin/reindex`) after `maxRequests` requests.
     */
    requeueStaleIndexing: (input: RequeueStaleInput) =>
      requeueStaleIndexing(deps, { maxRequests: DEFAULT_MAX_INDEX_REQUESTS, ...input }),
    /** Drops the spaces retired for longer than `graceMs`; returns their ids. */
    async dropRetiredSpaces(input: { graceMs: number }): Promise<{ dropped: string[] }> {
      return { dropped: (await deps.dropRetiredSpaces?.(input.graceMs)) ?? [] };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
