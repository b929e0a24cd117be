import type { Request } from 'express';
import { createKeyedSlots, type KeyedSlotsOptions } from '../core/concurrency/keyed-slots.ts';
import { AppError } from '../core/errors.ts';
import type { Authenticator } from './route-registry.ts';

/**
 * Requests of one user that run at once, per API process. The rate limit
 * bounds how many a user sends, not what they cost: a user with a few
 * hundred thousand memories whose every search takes 100 ms or more, sent at
 * the 20/s the rate limit allows, asks more of the database than two cores
 * hold, and every other user's statements wait behind them. Measured on two
 * cores (one user with 200,000 memories searching at 20/s, another searching
 * every 100 ms): no limit, the other user got 3 answers and 8 errors in 30 s;
 * 4 at once, p95 794 ms; 2 at once, p95 343 ms, and the heavy user was served
 * as many searches as with 4. Two serve a chat client (a context query and a
 * save at once); an agent's third parallel call waits its turn.
 */
export const DEFAULT_USER_CONCURRENCY = 2;
/** Requests of one user waiting for a turn (the default rate limit's burst). Past it, 429. */
export const USER_QUEUE = 60;
/** How long a request waits for its turn before it is refused with a 429. */
export const USER_QUEUE_WAIT_MS = 5_000;

/**
 * `/mcp`'s `GET` is a session's event stream, open as long as the session:
 * it would hold a turn for its whole life, and runs nothing itself (its
 * session's `POST`s do, and take turns).
 */
const longLived = (req: Request) => req.method === 'GET' && req.baseUrl === '/mcp';

/**
 * Wraps the authenticator so that, once a user is known (and within the rate
 * limit), their request waits for one of the user's `slots` turns, held until
 * its response closes. Other users' requests never wait for it. A request
 * whose client went away while it waited runs nothing.
 */
export function concurrencyLimitedAuthenticator(
  auth: Authenticator,
  options: Partial<KeyedSlotsOptions> = {},
): Authenticator {
  const limits: KeyedSlotsOptions = {
    slots: options.slots ?? DEFAULT_USER_CONCURRENCY,
    queue: options.queue ?? USER_QUEUE,
    waitMs: options.waitMs ?? USER_QUEUE_WAIT_MS,
  };
  const slots = createKeyedSlots(limits);
  return {
    async user(req) {
      const userId = await auth.user(req);
      const res = req.res;
      if (!res || longLived(req)) return userId;
      let gone = false;
      const onClose = () => (gone = true);
      res.once('close', onClose);
      const release = await slots.acquire(userId);
      res.off('close', onClose);
      if (!release) {
        res.setHeader('Retry-After', '1');
        throw new AppError(
          'rate_limited',
          `too many requests of this user in progress: at most ${limits.slots} run at once and ` +
            `${limits.queue} wait, each at most ${limits.waitMs / 1000} s; retry after 1 s`,
          { details: { retry_after_s: 1, concurrent: limits.slots, queued: limits.queue } },
        );
      }
      if (gone || res.destroyed) {
        release();
        throw new AppError('bad_request', 'the client closed the request while it waited');
      }
      res.once('close', release);
      return userId;
    },
    admin: (req) => auth.admin(req),
  };
}
