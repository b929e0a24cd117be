import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import type { ManagedVectorSpaces } from '../infra/vector/vector-spaces.ts';
import { ensureConsolidationSchedule } from '../infra/temporal/consolidation-schedule.ts';
import { ensureNarrativeFeederSchedule } from '../infra/temporal/narrative-schedules.ts';
import { ensureIndexReconcilerSchedule, startReembedding } from '../infra/temporal/schedules.ts';

/**
 * Starts re-embedding when the configured embedder's space is still being
 * built, and makes sure the recurring work is scheduled: nightly
 * consolidation, the narrative feeder and the index reconciler.
 */
export async function ensureBackgroundWork(
  config: Config,
  logger: Logger,
  client: Client,
  spaces: ManagedVectorSpaces,
): Promise<void> {
  if (spaces.targetState() === 'building') {
    await startReembedding(client, {
      spaceId: spaces.target().id,
      taskQueue: config.TASK_QUEUE_SYSTEM,
    });
    logger.info(
      { space: spaces.target().id, serving: spaces.serving()?.id ?? 'none' },
      'the embedder changed: re-embedding every memory into its space (searches read the old space until it is done)',
    );
  }
  await ensureConsolidationSchedule(client, {
    taskQueue: config.TASK_QUEUE_CONSOLIDATION,
    timezone: config.CONSOLIDATION_TIMEZONE,
    hour: config.CONSOLIDATION_HOUR,
    minute: config.CONSOLIDATION_MINUTE,
    catchupWindow: `${config.CONSOLIDATION_CATCHUP_HOURS} hours`,
    threshold: config.CONSOLIDATION_SIMILARITY,
    concurrency: config.CONSOLIDATION_CONCURRENCY,
  });
  await ensureNarrativeFeederSchedule(client, {
    taskQueue: config.TASK_QUEUE_NARRATIVES,
    everySeconds: config.NARRATIVE_FEED_INTERVAL_S,
    activeWithinHours: config.NARRATIVE_ACTIVE_WINDOW_H,
  });
  await ensureIndexReconcilerSchedule(client, {
    taskQueue: config.TASK_QUEUE_SYSTEM,
    everySeconds: config.INDEX_RECONCILE_INTERVAL_S,
    olderThanMs: config.INDEX_RECONCILE_AFTER_S * 1000,
    maxRequests: config.INDEX_RECONCILE_MAX_REQUESTS,
    dropRetiredAfterMs: config.VECTOR_SPACE_DROP_AFTER_MS,
  });
}
