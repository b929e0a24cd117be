import { within } from '../../core/concurrency/limits.ts';
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import {
  createKeyedTokenBuckets,
  rateDecision,
  type KeyedTokenBuckets,
  type RateDecision,
  type RateLimiter,
  type RatePolicy,
} from '../../core/concurrency/token-bucket.ts';

/**
 * One atomic token-bucket step per call: refill by the time elapsed on the
 * server's clock (so every API process agrees), take a token if there is one,
 * store the bucket and let it expire once it would be full anyway.
 * Returns `{allowed (0|1), tokens as a string}` (Lua numbers become integers).
 */
const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
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
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return { allowed, tostring(tokens) }
`;
const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET_LUA).digest('hex');

export interface RedisRateLimiterOptions {
  /** `redis://[[user]:password@]host[:port][/db]` */
  url: string;
  policy: RatePolicy;
  /** Prepended to every bucket key (default `memengine:ratelimit:`). */
  keyPrefix?: string;
  /** How long one check may wait for Redis before the in-process bucket decides (default 100 ms). */
  commandTimeoutMs?: number;
  /** After a failure, how long checks skip Redis and use the in-process buckets (default 1 s). */
  retryAfterFailureMs?: number;
  /** How long the factory waits for a first connection before starting in fallback (default 1 s). */
  connectTimeoutMs?: number;
  /** Bounds the in-process fallback buckets (default 100 000 keys). */
  maxLocalKeys?: number;
  /** Told once per outage (connection lost, no answer in time, unreachable at start-up). */
  onError?: (error: Error) => void;
}

export interface RedisRateLimiter extends RateLimiter {
  /** Decisions the in-process buckets made because Redis could not. */
  fallbacks(): number;
  close(): Promise<void>;
}

/**
 * Per-key token buckets shared through Redis, so that N API processes
 * enforce one limit: each check is one round trip (`EVALSHA` of an atomic
 * Lua script). A check Redis cannot answer in time is decided by an
 * in-process bucket instead and counted; nothing is queued while Redis is
 * down, and for `retryAfterFailureMs` after a failure Redis is not asked at
 * all, so an outage costs no latency. Never rejects: a limiter failure must
 * not fail the request it guards.
 */
export async function createRedisRateLimiter(
  options: RedisRateLimiterOptions,
): Promise<RedisRateLimiter> {
  const { policy } = options;
  const prefix = options.keyPrefix ?? 'memengine:ratelimit:';
  const commandTimeoutMs = options.commandTimeoutMs ?? 100;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 1000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  const local: KeyedTokenBuckets = createKeyedTokenBuckets(policy, {
    ...(options.maxLocalKeys ? { maxKeys: options.maxLocalKeys } : {}),
  });
  const args = [String(policy.perSecond), String(policy.burst)];
  let fallbacks = 0;
  let skipUntil = 0;
  let inOutage = false;
  let closed = false;

  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    maintNotifications: 'disabled',
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 16), 2000),
    },
  });
  const outage = (error: Error) => {
    skipUntil = performance.now() + retryAfterFailureMs;
    if (inOutage || closed) return;
    inOutage = true;
    options.onError?.(error);
  };
  // Without a listener an 'error' event would throw and take the process down.
  client.on('error', outage);
  client.on('ready', () => {
    inOutage = false;
    skipUntil = 0;
  });
  const connected = client.connect().then(
    () => true,
    () => false,
  );
  const ready = await within(connected, connectTimeoutMs, false);
  if (!ready) outage(new Error(`Redis did not accept a connection within ${connectTimeoutMs} ms`));

  const evaluate = async (key: string): Promise<RateDecision> => {
    const options = { keys: [prefix + key], arguments: args };
    let reply: unknown;
    try {
      reply = await client.evalSha(TOKEN_BUCKET_SHA, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      reply = await client.eval(TOKEN_BUCKET_LUA, options);
    }
    const [allowed, tokens] = reply as [number, string];
    return rateDecision(policy, allowed === 1, Number(tokens));
  };

  const fallback = (key: string): RateDecision => {
    fallbacks++;
    return local.take(key);
  };

  return {
    policy,
    async take(key) {
      if (closed || !client.isReady || performance.now() < skipUntil) return fallback(key);
      let deadline: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          evaluate(key),
          new Promise<never>((_, reject) => {
            deadline = setTimeout(
              () => reject(new Error(`Redis did not answer within ${commandTimeoutMs} ms`)),
              commandTimeoutMs,
            );
          }),
        ]);
      } catch (error) {
        outage(error instanceof Error ? error : new Error(String(error)));
        return fallback(key);
      } finally {
        clearTimeout(deadline);
      }
    },
    fallbacks: () => fallbacks,
    async close() {
      if (closed) return;
      closed = true;
      // close() waits for replies in flight; a server that stopped answering gets cut off.
      const graceful = client.isReady
        ? client.close().then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);
      const done = await within(graceful, commandTimeoutMs, false);
      if (!done) {
        try {
          client.destroy();
        } catch {
          // Already closed.
        }
      }
    },
  };
}
