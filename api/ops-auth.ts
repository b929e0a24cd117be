import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { bearerToken, sameSecret } from '../core/auth/api-keys.ts';
import { AppError } from '../core/errors.ts';

const COOKIE = 'ops_session';
/** The dashboard's cookie lives at most this long; then `?token=` again. */
const COOKIE_MAX_AGE_S = 12 * 3600;

/** The cookie value for a token: derived, so the cookie alone never reveals `OPS_TOKEN`. */
const sessionValue = (token: string) =>
  createHash('sha256').update(`memory-engine ops session\n${token}`).digest('base64url');

function cookieOf(req: Request, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Guards an operational route (`/metrics`, `/dashboard`, `/dashboard/data`,
 * `/status`) with `OPS_TOKEN`: `Authorization: Bearer <OPS_TOKEN>`, or, on
 * the dashboard's own routes (`cookie`), its session cookie (see
 * `dashboardLogin`). Without a token configured (a loopback-only API)
 * everything passes.
 */
export function opsGuard(token: string | undefined, options: { cookie?: boolean } = {}) {
  const session = token && options.cookie ? sessionValue(token) : null;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!token) return next();
    const offered = bearerToken(req.get('authorization'));
    if (offered && sameSecret(offered, token)) return next();
    const cookie = session && cookieOf(req, COOKIE);
    if (session && cookie && sameSecret(cookie, session)) return next();
    throw new AppError(
      'unauthorized',
      `${req.path} needs Authorization: Bearer <OPS_TOKEN>` +
        (req.path.startsWith('/dashboard')
          ? ' (in a browser, open /dashboard?token=<OPS_TOKEN>)'
          : ''),
    );
  };
}

/**
 * `GET /dashboard?token=<OPS_TOKEN>`, for a browser, which cannot send a
 * bearer header when following a link: a right token is exchanged for an
 * HttpOnly, SameSite=Strict cookie scoped to `/dashboard` (so the page's own
 * polls of `/dashboard/data` carry it without the page knowing the token),
 * and the browser is sent to `/dashboard` with the token gone from its
 * address bar and history. A wrong one is a 401.
 */
export function dashboardLogin(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    const offered = req.query.token;
    if (!token || offered === undefined) return next();
    if (typeof offered !== 'string' || !sameSecret(offered, token)) {
      throw new AppError('unauthorized', 'query.token: not the OPS_TOKEN');
    }
    res.cookie(COOKIE, sessionValue(token), {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/dashboard',
      maxAge: COOKIE_MAX_AGE_S * 1000,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, '/dashboard');
  };
}
