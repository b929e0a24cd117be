import { AppError } from '../errors.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import { userIdOfKey } from './cache-keys.ts';
import type { RecordTier } from './tiered-cache-types.ts';

/**
 * The relational store as L3 of the plan cache. The owning user (whose
 * deletion takes the rows with it) is read from the key, so keys must come
 * from `cacheKey`.
 */
export function relationalPlanTier(
  store: Pick<RelationalStore, 'getCachedPlan' | 'putCachedPlan'>,
): RecordTier {
  return {
    get: (key) => store.getCachedPlan(key),
    async set(key, record, ttlMs) {
      const userId = userIdOfKey(key);
      if (!userId) throw new AppError('internal', `not a cache key made by cacheKey: ${key}`);
      await store.putCachedPlan(userId, key, record, ttlMs);
    },
  };
}
