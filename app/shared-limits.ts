import type { Logger } from 'pino';
import type {
  RateLimiter,
  RatePolicy,
  WaitingTokenBucket,
} from '../core/concurrency/token-bucket.ts';
import { createRedisRateLimiter } from '../infra/cache/redis-rate-limiter.ts';
import { createRedisTokenBucket } from '../infra/cache/redis-token-bucket.ts';
import {
  createTokenBucketClient,
  parentPeer,
  type SharedBucketPolicies,
} from '../infra/cluster/ipc-token-buckets.ts';
import type { Config } from '../infra/config.ts';
import { sharedLimitsMode } from './layout-child.ts';
import type { Shutdown } from './shutdown.ts';

/** The limits an API process shares with the others; absent ones are this process's own. */
export interface SharedLimits {
  where: 'redis' | 'ipc' | 'local';
  /** Users' buckets (absent: in process, or rate limiting is off). */
  users?: RateLimiter;
  /** The model planning bucket (absent: in process). */
  planning?: WaitingTokenBucket;
}

/** The per-user and planning policies, from the configuration. */
export function bucketPolicies(config: Config): SharedBucketPolicies {
  const planning: RatePolicy = { perSecond: config.MODEL_RATE_PER_S, burst: config.MODEL_BURST };
  return { user: { perSecond: config.RATE_LIMIT_PER_S, burst: config.RATE_LIMIT_BURST }, planning };
}

/**
 * Opens the buckets N API processes must share: in Redis when `REDIS_URL`
 * is set (every process on every machine; in process while Redis is down),
 * in the parent over IPC in a child of `PROCESSES=api,worker` (in process
 * while the parent does not answer), else none: one process, its own.
 */
export async function openSharedLimits(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<SharedLimits> {
  const where = sharedLimitsMode(config);
  const policies = bucketPolicies(config);
  if (where === 'redis' && config.REDIS_URL) {
    const url = config.REDIS_URL;
    const warn = (what: string) => (err: Error) =>
      logger.warn({ err }, `${what}: Redis unavailable; limiting in process until it returns`);
    const users = config.RATE_LIMIT_ENABLED
      ? await createRedisRateLimiter({ url, policy: policies.user, onError: warn('rate limiter') })
      : undefined;
    if (users) shutdown.add('rate limiter', () => users.close());
    const planning = await createRedisTokenBucket({
      url,
      policy: policies.planning,
      onError: warn('model planning bucket'),
    });
    shutdown.add('model planning bucket', () => planning.close());
    return { where, planning, ...(users ? { users } : {}) };
  }
  const peer = where === 'ipc' ? parentPeer() : null;
  if (!peer) return { where: 'local' };
  const client = createTokenBucketClient({
    peer,
    policies,
    onFallback: (err) =>
      logger.warn({ err }, 'shared limits: the parent process did not answer; limiting in process'),
  });
  shutdown.add('shared limits', async () => client.close());
  return {
    where,
    planning: client.planning,
    ...(config.RATE_LIMIT_ENABLED ? { users: client.users } : {}),
  };
}
