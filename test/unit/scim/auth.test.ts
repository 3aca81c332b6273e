// The authenticator asks the store for managed tokens at most every SOURCE_TOKENS_RECHECK_MS: a
// request does not pay for a read transaction of its own, and a changed token is in force within it.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadConfig } from '../../../src/config';
import { createAuthenticator } from '../../../src/scim/auth';
import { SOURCE_TOKENS_RECHECK_MS, type SourceRecord } from '../../../src/store';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const OLD = 'old-token-0123456789abcdef0123456789';
const NEW = 'new-token-0123456789abcdef0123456789';

/** The status an authenticated request gets: 200 when auth names a principal, else what auth answered. */
function statusOf(authenticate: ReturnType<typeof createAuthenticator>, token: string): number {
  let status = 200;
  const res = {
    setHeader: () => undefined,
    set statusCode(code: number) {
      status = code;
    },
    end: () => undefined,
  } as unknown as ServerResponse;
  const principal = authenticate({ headers: { authorization: `Bearer ${token}` } } as IncomingMessage, res);
  return principal ? 200 : status;
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('managed tokens are asked for at most once per recheck interval; a rotation is in force after it', () => {
  const config = loadConfig({ env: {}, overrides: { logLevel: 'silent', sources: [] } });
  let hashes = [{ id: 'onelogin', sha256: sha(OLD), until: null as number | null }];
  const managed = jest.fn(() => hashes);
  const authenticate = createAuthenticator(config, (id) => ({ id }) as unknown as SourceRecord, managed);

  expect([statusOf(authenticate, OLD), statusOf(authenticate, OLD), statusOf(authenticate, NEW)]).toEqual([200, 200, 401]);
  expect(managed).toHaveBeenCalledTimes(1);

  // Rotated with --revoke-old in another process: the old token still works until the next look.
  hashes = [{ id: 'onelogin', sha256: sha(NEW), until: null }];
  jest.advanceTimersByTime(SOURCE_TOKENS_RECHECK_MS - 1);
  expect(statusOf(authenticate, OLD)).toBe(200);
  expect(managed).toHaveBeenCalledTimes(1);
  jest.advanceTimersByTime(1);
  expect([statusOf(authenticate, OLD), statusOf(authenticate, NEW)]).toEqual([401, 200]);
  expect(managed).toHaveBeenCalledTimes(2);
});
