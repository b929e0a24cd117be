import type { Request } from 'express';
import { bearerToken, hashApiKey, sameSecret } from '../core/auth/api-keys.ts';
import { AppError } from '../core/errors.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import type { Authenticator } from './route-registry.ts';

/**
 * Decides who is calling from `Authorization: Bearer <key>` alone: no route
 * takes a user id from the caller. The store remembers keys it has looked up
 * and forgets one when it is revoked, here or (announced through PostgreSQL)
 * on any other API process, so a revoked key stops working at once.
 */
export function createAuthenticator(
  store: RelationalStore,
  adminApiKey: string | undefined,
): Authenticator {
  return {
    async user(req: Request) {
      const key = bearerToken(req.get('authorization'));
      if (!key) {
        throw new AppError('unauthorized', 'missing or malformed Authorization: Bearer <api key>');
      }
      const found = await store.findUserByKeyHash(hashApiKey(key));
      if (!found) throw new AppError('unauthorized', 'API key is not valid or was revoked');
      return found.userId;
    },
    admin(req: Request) {
      if (!adminApiKey) {
        throw new AppError(
          'forbidden',
          'the admin API is disabled: set ADMIN_API_KEY to enable it',
        );
      }
      const key = bearerToken(req.get('authorization'));
      if (!key || !sameSecret(key, adminApiKey)) {
        throw new AppError(
          'unauthorized',
          'admin routes need Authorization: Bearer <ADMIN_API_KEY>',
        );
      }
    },
  };
}
