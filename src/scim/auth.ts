// Per-source bearer auth (SPEC section 3): the token identifies the source. Tokens from config,
// plain or sha256; the presented token is hashed and compared with every source's hash in
// constant time, so neither timing nor order reveals which source (if any) nearly matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config';
import { unauthorized } from '../errors';
import type { SourceRecord } from '../store';
import { sendError } from './error-response';

export interface Principal {
  source: SourceRecord;
}

const REALM = 'scim-graph-bridge';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * `managed`: the token hashes (hex) of sources added with `sources add`, read from the store on
 * every request, so `sources add` and `sources rotate` take effect in a running bridge and a
 * rotated source's previous token works until its grace period ends. A managed source's id
 * replaces the config's entry for it (the runtime config carries managed sources as they were at start).
 */
export function createAuthenticator(
  config: Config,
  sourceOf: (id: string) => SourceRecord | null,
  managed: () => readonly { id: string; sha256: string }[] = () => [],
) {
  const configured = config.sources.map((s) => ({
    id: s.id,
    hash: s.token ? sha256(s.token) : Buffer.from(s.tokenSha256 ?? '', 'hex'),
  }));

  function identify(header: string | undefined): string | null {
    const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
    if (!match) return null;
    const presented = sha256(match[1]);
    const fromStore = managed();
    const managedIds = new Set(fromStore.map((m) => m.id));
    const hashes = [...configured.filter((c) => !managedIds.has(c.id)), ...fromStore.map((m) => ({ id: m.id, hash: Buffer.from(m.sha256, 'hex') }))];
    let found: string | null = null;
    for (const h of hashes) {
      if (h.hash.length === presented.length && timingSafeEqual(h.hash, presented) && found === null) found = h.id;
    }
    return found;
  }

  return function authenticate(req: Request, res: Response, next: NextFunction): void {
    const header = req.headers.authorization;
    const id = identify(header);
    const source = id ? sourceOf(id) : null;
    if (!source) {
      const error = header ? ', error="invalid_token"' : '';
      res.setHeader('WWW-Authenticate', `Bearer realm="${REALM}"${error}`);
      const detail = header ? 'the bearer token is not valid for any source' : 'a bearer token is required';
      sendError(res, unauthorized(detail));
      return;
    }
    res.locals.principal = { source } satisfies Principal;
    next();
  };
}
