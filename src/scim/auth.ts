// Per-source bearer auth (SPEC section 3): the token identifies the source. Tokens from config,
// plain or sha256; the presented token is hashed and compared with every source's hash in
// constant time, so neither timing nor order reveals which source (if any) nearly matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import { unauthorized } from '../errors';
import { SOURCE_TOKENS_RECHECK_MS, type SourceRecord } from '../store';
import { sendError } from './error-response';

export interface Principal {
  source: SourceRecord;
}

const REALM = 'scim-graph-bridge';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

interface Candidate {
  id: string;
  hash: Buffer;
  /** Epoch ms after which this hash is no longer accepted (a rotated token's grace period); null: no end. */
  until: number | null;
}

/**
 * `managed`: the token hashes (hex) of sources added with `sources add`, asked for again at most every
 * SOURCE_TOKENS_RECHECK_MS (the store keeps them and reads them again only when the database changed), so `sources add` and
 * `sources rotate` take effect in a running bridge and a rotated source's previous token works
 * until its grace period ends. A managed source's id replaces the config's entry for it (the
 * runtime config carries managed sources as they were at start). While `managed` returns the same
 * array, the decoded hashes are reused.
 */
export function createAuthenticator(
  config: Config,
  sourceOf: (id: string) => SourceRecord | null,
  managed: () => readonly { id: string; sha256: string; until: number | null }[] = () => [],
) {
  const configured = config.sources.map((s) => ({
    id: s.id,
    hash: s.token ? sha256(s.token) : Buffer.from(s.tokenSha256 ?? '', 'hex'),
    until: null,
  }));
  let from: readonly unknown[] | null = null;
  let candidates: Candidate[] = [];
  let askedAt = -Infinity;

  function candidatesNow(): Candidate[] {
    const now = performance.now();
    if (now - askedAt < SOURCE_TOKENS_RECHECK_MS) return candidates;
    askedAt = now;
    const fromStore = managed();
    if (fromStore !== from) {
      const managedIds = new Set(fromStore.map((m) => m.id));
      candidates = [
        ...configured.filter((c) => !managedIds.has(c.id)),
        ...fromStore.map((m) => ({ id: m.id, hash: Buffer.from(m.sha256, 'hex'), until: m.until })),
      ];
      from = fromStore;
    }
    return candidates;
  }

  function identify(header: string | undefined): string | null {
    const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
    if (!match) return null;
    const presented = sha256(match[1]);
    const now = Date.now();
    let found: string | null = null;
    for (const h of candidatesNow()) {
      if (h.hash.length === presented.length && timingSafeEqual(h.hash, presented) && found === null && (h.until === null || h.until > now)) found = h.id;
    }
    return found;
  }

  /** The request's principal; null when the token names no source, after answering 401. */
  return function authenticate(req: IncomingMessage, res: ServerResponse): Principal | null {
    const header = req.headers.authorization;
    const id = identify(header);
    const source = id ? sourceOf(id) : null;
    if (!source) {
      const error = header ? ', error="invalid_token"' : '';
      res.setHeader('WWW-Authenticate', `Bearer realm="${REALM}"${error}`);
      const detail = header ? 'the bearer token is not valid for any source' : 'a bearer token is required';
      sendError(res, unauthorized(detail));
      return null;
    }
    return { source };
  };
}
