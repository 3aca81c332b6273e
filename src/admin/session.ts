// Console sessions: signing in with the admin token opens a session whose random id is the
// `bridge_admin` cookie (the token itself never goes into a cookie). Each session has its own
// CSRF token, which every console action (POST) must carry. Sessions live in memory: a restart
// signs everyone out.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  id: string;
  csrf: string;
  expiresAt: number;
}

export const SESSION_COOKIE = 'bridge_admin';

export function sameSecret(a: string, b: string | undefined): boolean {
  if (typeof b !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createSessions(options: { ttlMs?: number; max?: number; now?: () => number } = {}) {
  const ttlMs = options.ttlMs ?? 12 * 60 * 60 * 1000;
  const max = options.max ?? 1000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  return {
    open(): Session {
      const session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: now() + ttlMs };
      sessions.set(session.id, session);
      // The oldest sessions go first when too many are open.
      while (sessions.size > max) sessions.delete(sessions.keys().next().value as string);
      return session;
    },
    get(id: string | undefined): Session | null {
      if (!id) return null;
      const session = sessions.get(id);
      if (!session || !sameSecret(session.id, id)) return null;
      if (session.expiresAt <= now()) {
        sessions.delete(id);
        return null;
      }
      return session;
    },
    close(id: string | undefined): void {
      if (id) sessions.delete(id);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      try {
        return decodeURIComponent(rest.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
