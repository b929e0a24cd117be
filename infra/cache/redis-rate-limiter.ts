import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { within } from '../../core/concurrency/limits.ts';
import {
  createKeyedTokenBuckets,
  rateDecision,
  type KeyedTokenBuckets,
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
const TOKEN_BUCKET = redisScript(TOKEN_BUCKET_LUA);

/** A Lua script and its SHA-1, for `EVALSHA` with `EVAL` when the server has not seen it. */
export interface RedisScript {
  lua: string;
  sha: string;
}

export function redisScript(lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export interface RedisScriptsOptions {
  /** `redis://[[user]:password@]host[:port][/db]` */
  url: string;
  /** How long one script may wait for Redis before the caller decides locally (default 100 ms). */
  commandTimeoutMs?: number;
  /** After a failure, how long runs skip Redis and answer null (default 1 s). */
  retryAfterFailureMs?: number;
  /** How long the factory waits for a first connection before starting in fallback (default 1 s). */
  connectTimeoutMs?: number;
  /** Told once per outage (connection lost, no answer in time, unreachable at start-up). */
  onError?: (error: Error) => void;
}

/** Atomic scripts on one Redis connection, for shared limits that must not fail their caller. */
export interface RedisScripts {
  /** The script's reply; null when Redis is down, slow or being skipped (decide locally). */
  run(script: RedisScript, keys: string[], args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * One Redis connection for shared limits: each run is one round trip
 * (`EVALSHA`); a run Redis cannot answer within `commandTimeoutMs` resolves
 * null, nothing is queued while Redis is down, and for `retryAfterFailureMs`
 * after a failure Redis is not asked at all, so an outage costs no latency.
 * Never rejects.
 */
export async function connectRedisScripts(options: RedisScriptsOptions): Promise<RedisScripts> {
  const commandTimeoutMs = options.commandTimeoutMs ?? 100;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 1000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
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

  const evaluate = async (script: RedisScript, keys: string[], args: string[]) => {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(script.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await client.eval(script.lua, options);
    }
  };

  return {
    async run(script, keys, args) {
      if (closed || !client.isReady || performance.now() < skipUntil) return null;
      let deadline: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          evaluate(script, keys, args),
          new Promise<never>((_, reject) => {
            deadline = setTimeout(
              () => reject(new Error(`Redis did not answer within ${commandTimeoutMs} ms`)),
              commandTimeoutMs,
            );
          }),
        ]);
      } catch (error) {
        outage(error instanceof Error ? error : new Error(String(error)));
        return null;
      } finally {
        clearTimeout(deadline);
      }
    },
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

export interface RedisRateLimiterOptions extends RedisScriptsOptions {
  policy: RatePolicy;
  /** Prepended to every bucket key (default `memengine:ratelimit:`). */
  keyPrefix?: string;
  /** Bounds the in-process fallback buckets (default 100 000 keys). */
  maxLocalKeys?: number;
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
 * in-process bucket instead and counted (see `connectRedisScripts`). Never
 * rejects: a limiter failure must not fail the request it guards.
 */
export async function createRedisRateLimiter(
  options: RedisRateLimiterOptions,
): Promise<RedisRateLimiter> {
  const { policy } = options;
  const prefix = options.keyPrefix ?? 'memengine:ratelimit:';
  const local: KeyedTokenBuckets = createKeyedTokenBuckets(policy, {
    ...(options.maxLocalKeys ? { maxKeys: options.maxLocalKeys } : {}),
  });
  const args = [String(policy.perSecond), String(policy.burst)];
  const scripts = await connectRedisScripts(options);
  let fallbacks = 0;
  return {
    policy,
    async take(key) {
      const reply = await scripts.run(TOKEN_BUCKET, [prefix + key], args);
      if (reply === null) {
        fallbacks++;
        return local.take(key);
      }
      const [allowed, tokens] = reply as [number, string];
      return rateDecision(policy, allowed === 1, Number(tokens));
    },
    fallbacks: () => fallbacks,
    close: () => scripts.close(),
  };
}
