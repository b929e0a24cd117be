import { ApplicationFailure } from '@temporalio/activity';
import { createNarrator, type Narrator } from '../core/narrative/narrator.ts';
import type { LanguageModel } from '../core/ports/language-model.ts';
import type { NarrativeQueue, NarrativeRequest } from '../core/ports/narrative-queue.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import { heartbeatingWithinTimeout } from './heartbeat.ts';

/** The process's memory use against its budget, in MB. */
export interface MemoryUsage {
  usedMb: number;
  budgetMb: number;
}

export type MemoryUsageReader = () => MemoryUsage | Promise<MemoryUsage>;

/** Resident set size of this process against `budgetMb`. */
export function processMemoryReader(budgetMb: number): MemoryUsageReader {
  return () => ({ usedMb: process.memoryUsage().rss / (1024 * 1024), budgetMb });
}

export interface NarrativeActivityDeps {
  store: RelationalStore;
  /** Writes the portraits; by default the model when `model` is set, else locally. */
  narrator?: Narrator;
  model?: LanguageModel | null;
  /** Feeds the scheduler's memory-pressure pause; by default this process against 2 GB. */
  memoryUsage?: MemoryUsageReader;
  /** Where the feeder's requests go; required only by `requestNarratives`. */
  narrativeQueue?: NarrativeQueue;
}

export interface GenerateNarrativeInput {
  userId: string;
}

export interface GenerateNarrativeResult {
  /** True when the latest narrative was already built from the user's data version. */
  skipped: boolean;
  version: number;
  dataVersion: number;
  model: string;
}

export interface ActiveUsersInput {
  /** ISO time: users active (saved or queried) at or after it. */
  since: string;
  limit: number;
  /** The last user id of the previous page. */
  afterId?: string;
}

/** The memories a portrait is written from: the user's newest active ones. */
export const NARRATIVE_MEMORY_LIMIT = 60;

/** The narrative activities: generation, the memory reading, and the feeder's two steps. */
export function createNarrativeActivities(deps: NarrativeActivityDeps) {
  const { store } = deps;
  const narrator =
    deps.narrator ?? createNarrator({ model: deps.model ?? null, timeoutMs: 12_000 });
  const readMemory = deps.memoryUsage ?? processMemoryReader(2048);

  return {
    /**
     * Builds the user's narrative unless the latest one is already built from
     * the user's current data version. That check makes a retried or re-run
     * generation (a worker killed after the save) never add a second version.
     */
    async generateNarrative(input: GenerateNarrativeInput): Promise<GenerateNarrativeResult> {
      return heartbeatingWithinTimeout(async () => {
        const user = await store.getUser(input.userId);
        if (!user) {
          throw ApplicationFailure.nonRetryable(`user ${input.userId} not found`, 'UnknownUser');
        }
        const latest = await store.latestNarrative(user.id);
        if (latest && latest.dataVersion >= user.dataVersion) {
          return {
            skipped: true,
            version: latest.version,
            dataVersion: latest.dataVersion,
            model: latest.model,
          };
        }
        // The version read before the memories: a change made meanwhile leaves the narrative stale, not wrong.
        const dataVersion = user.dataVersion;
        const memories = await store.recentMemories(user.id, NARRATIVE_MEMORY_LIMIT);
        const draft = await narrator.write(memories);
        const saved = await store.saveNarrative(user.id, {
          content: draft.content,
          dataVersion,
          model: draft.model,
        });
        return {
          // Another run saved this data version first: the store kept its version.
          skipped: saved.dataVersion !== dataVersion || saved.content !== draft.content,
          version: saved.version,
          dataVersion: saved.dataVersion,
          model: saved.model,
        };
      });
    },

    async readMemoryUsage(): Promise<MemoryUsage> {
      const { usedMb, budgetMb } = await readMemory();
      return { usedMb: Math.round(usedMb * 10) / 10, budgetMb };
    },

    /** One page of users active since `since`, by id. */
    async activeUsers(input: ActiveUsersInput): Promise<{ userIds: string[] }> {
      const since = new Date(input.since);
      if (Number.isNaN(since.getTime()) || !(input.limit >= 1 && input.limit <= 5000)) {
        throw ApplicationFailure.nonRetryable('activeUsers input is invalid', 'BadInput');
      }
      const userIds = await store.activeUsersSince(since, {
        limit: input.limit,
        ...(input.afterId ? { afterId: input.afterId } : {}),
      });
      return { userIds };
    },

    /** Hands requests to the scheduler (signal-with-start, so it runs). */
    async requestNarratives(input: { users: NarrativeRequest[] }): Promise<void> {
      if (!deps.narrativeQueue) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no narrative queue (ActivityDeps.narrativeQueue)',
          'NotConfigured',
        );
      }
      await deps.narrativeQueue.enqueue(input.users);
    },
  };
}
