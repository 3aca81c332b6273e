// The console and its JSON API need the admin: a bearer header with the admin token, or the
// `bridge_admin` session cookie set by /admin/login (see session.ts). Health and metrics
// endpoints need none and carry no secrets.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { cookieValue, SESSION_COOKIE, type Session, type Sessions } from './session';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1].trim();
}

export function sessionOf(req: Request, sessions: Sessions): Session | null {
  return sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));
}

/** Admin by bearer token or session; the session (if any) is left in res.locals.session. */
export function requireAdmin(adminToken: string, sessions: Sessions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const session = sessionOf(req, sessions);
    if (session) {
      res.locals.session = session;
      return next();
    }
    if (tokenMatches(adminToken, bearerToken(req))) return next();
    // A browser asking for a page goes to sign-in; API clients get a 401 they can act on.
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      res.redirect(302, `${req.baseUrl}/login`);
      return;
    }
    res.status(401).set('WWW-Authenticate', 'Bearer realm="scim-graph-bridge admin"').json({ error: 'admin token required' });
  };
}
