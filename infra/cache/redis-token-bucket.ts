import {
  createTokenBucket,
  type RatePolicy,
  type WaitingTokenBucket,
} from '../../core/concurrency/token-bucket.ts';
import {
  connectRedisScripts,
  redisScript,
  type RedisScriptsOptions,
} from './redis-rate-limiter.ts';

/**
 * One atomic reservation per call: refill by the time elapsed on the
 * server's clock, then take a token now (reply 0), or reserve the one that
 * will have refilled within `max_wait` ms (reply: the ms to wait; the bucket
 * goes below zero, so later callers wait behind it), or refuse (reply -1).
 */
const RESERVE_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
if wait <= max_wait then
  tokens = tokens - 1
else
  wait = -1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait
`;
const RESERVE = redisScript(RESERVE_LUA);

export interface RedisTokenBucketOptions extends RedisScriptsOptions {
  policy: RatePolicy;
  /** The bucket's key (default `memengine:model-planning`): processes with the same key share it. */
  key?: string;
}

export interface RedisTokenBucket extends WaitingTokenBucket {
  /** Takes an in-process bucket decided because Redis could not. */
  fallbacks(): number;
  close(): Promise<void>;
}

/**
 * One token bucket shared through Redis by every process that names the
 * same key, on however many machines: the model planning bucket, so that
 * `MODEL_RATE_PER_S` bounds the whole deployment's planning calls. A take
 * Redis cannot answer in time is decided by an in-process bucket of the
 * same size; never rejects.
 */
export async function createRedisTokenBucket(
  options: RedisTokenBucketOptions,
): Promise<RedisTokenBucket> {
  const { policy } = options;
  const key = options.key ?? 'memengine:model-planning';
  const local = createTokenBucket({ capacity: policy.burst, refillPerSecond: policy.perSecond });
  const scripts = await connectRedisScripts(options);
  let fallbacks = 0;
  return {
    async take(maxWaitMs) {
      const args = [String(policy.perSecond), String(policy.burst), String(Math.floor(maxWaitMs))];
      const reply = await scripts.run(RESERVE, [key], args);
      if (reply === null) {
        fallbacks++;
        return local.take(maxWaitMs);
      }
      const waitMs = Number(reply);
      if (waitMs < 0) return false;
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      return true;
    },
    fallbacks: () => fallbacks,
    close: () => scripts.close(),
  };
}
