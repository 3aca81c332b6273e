// The dashboard and its JSON API need the admin token: a bearer header, or the
// `bridge_admin` cookie set by /admin/login. Health and metrics endpoints need none and
// carry no secrets.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

function cookieToken(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'bridge_admin') return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1].trim();
}

export function requireAdmin(adminToken: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (tokenMatches(adminToken, bearerToken(req) ?? cookieToken(req))) return next();
    // A browser asking for a page goes to sign-in; API clients get a 401 they can act on.
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      res.redirect(302, `${req.baseUrl}/login`);
      return;
    }
    res.status(401).set('WWW-Authenticate', 'Bearer realm="scim-graph-bridge admin"').json({ error: 'admin token required' });
  };
}
