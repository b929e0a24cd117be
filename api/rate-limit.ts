import type { Request } from 'express';
import {
  createKeyedTokenBuckets,
  type RateDecision,
  type RateLimiter,
  type RatePolicy,
} from '../core/concurrency/token-bucket.ts';
import { AppError } from '../core/errors.ts';
import type { Authenticator } from './route-registry.ts';

/**
 * Per user: 20 requests a second sustained, 60 at once. A chat turn costs a
 * client one to three calls and an agent's tool flurry (several searches and
 * saves at the start of a conversation) fits in the burst, so a person or an
 * assistant acting for one never meets the limit; a runaway loop is held to
 * 20/s, well below what one API process serves, so it cannot slow others.
 */
export const DEFAULT_USER_RATE: RatePolicy = { perSecond: 20, burst: 60 };
/**
 * The admin key: provisioning users and keys, including the load test's
 * seeding of a few hundred users at once; bounds a runaway script.
 */
export const DEFAULT_ADMIN_RATE: RatePolicy = { perSecond: 100, burst: 500 };

export interface RateLimitOptions {
  /** Off: no limits and no headers (for the benchmark's on/off comparison). Default on. */
  enabled?: boolean;
  /** Every user's bucket, over `/v1` and `/mcp` alike (default 20/s, burst 60). */
  user?: RatePolicy;
  /**
   * Where users' buckets live, with its own policy (which wins over `user`):
   * a Redis-backed one makes N API processes enforce one limit. Default: in
   * this process.
   */
  limiter?: RateLimiter;
  /** The admin key's bucket, always in this process (default 100/s, burst 500). */
  admin?: RatePolicy;
  /** Bounds the in-process buckets (least recently seen dropped first; default 100 000). */
  maxKeys?: number;
  /** The in-process buckets' clock, in ms. */
  now?: () => number;
}

/** The `RateLimit-Policy` value (draft-ietf-httpapi-ratelimit-headers-11): quota and the seconds to refill it. */
function policyField(name: string, policy: RatePolicy): string {
  return `"${name}";q=${policy.burst};w=${Math.ceil(policy.burst / policy.perSecond)}`;
}

/**
 * Puts the limit's state on the response; a refused request becomes a 429
 * `rate_limited` with `Retry-After`. `t` is when the quota is whole again,
 * or, with none left, when the next request may go (the same instant as
 * `Retry-After`, as the draft asks).
 */
function enforce(
  req: Request,
  name: string,
  policy: RatePolicy,
  policyHeader: string,
  decision: RateDecision,
): void {
  const resetMs = decision.remaining > 0 ? decision.fullInMs : decision.nextTokenMs;
  const res = req.res;
  if (res) {
    res.setHeader('RateLimit-Policy', policyHeader);
    res.setHeader('RateLimit', `"${name}";r=${decision.remaining};t=${Math.ceil(resetMs / 1000)}`);
  }
  if (decision.allowed) return;
  const retryAfterS = Math.max(1, Math.ceil(decision.nextTokenMs / 1000));
  res?.setHeader('Retry-After', String(retryAfterS));
  throw new AppError(
    'rate_limited',
    `too many requests for this ${name === 'admin' ? 'admin key' : 'user'}: at most ` +
      `${policy.burst} at once and ${policy.perSecond} per second; retry after ${retryAfterS} s`,
    { details: { retry_after_s: retryAfterS, limit: policy.burst, per_second: policy.perSecond } },
  );
}

/**
 * Wraps the authenticator every `/v1` route and `/mcp` request goes through,
 * so that each authenticated call takes a token from its caller's bucket:
 * one bucket per user (however many keys it holds; MCP requests included)
 * and one for the admin key. The limit is checked after authentication, so
 * unknown keys make no buckets and one user's traffic never drains
 * another's. Every limited response carries `RateLimit` and
 * `RateLimit-Policy`.
 */
export function rateLimitedAuthenticator(
  auth: Authenticator,
  options: RateLimitOptions = {},
): Authenticator {
  if (options.enabled === false) return auth;
  const bucketOptions = {
    ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  const users: RateLimiter =
    options.limiter ?? createKeyedTokenBuckets(options.user ?? DEFAULT_USER_RATE, bucketOptions);
  const adminPolicy = options.admin ?? DEFAULT_ADMIN_RATE;
  const admin = createKeyedTokenBuckets(adminPolicy, bucketOptions);
  const userPolicyField = policyField('user', users.policy);
  const adminPolicyField = policyField('admin', adminPolicy);
  return {
    async user(req) {
      const userId = await auth.user(req);
      const taken = users.take(userId);
      const decision = taken instanceof Promise ? await taken : taken;
      enforce(req, 'user', users.policy, userPolicyField, decision);
      return userId;
    },
    admin(req) {
      auth.admin(req);
      enforce(req, 'admin', adminPolicy, adminPolicyField, admin.take('admin'));
    },
  };
}
