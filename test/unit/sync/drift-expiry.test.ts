// The answers Graph documents for a delta link it can no longer serve (src/sync/drift.ts).
import { deltaLinkExpired } from '../../../src/sync/drift';

const error = (status: number, code: string) => ({ status, body: { error: { code, message: 'x' } } });

test('410 Gone and the sync-state codes mean a full round; other answers do not', () => {
  expect([
    deltaLinkExpired({ status: 410 }),
    deltaLinkExpired(error(400, 'syncStateNotFound')),
    deltaLinkExpired(error(400, 'syncStateInvalid')),
    deltaLinkExpired(error(400, 'resyncRequired')),
    deltaLinkExpired(error(403, 'Authorization_RequestDenied')),
    deltaLinkExpired(error(429, 'TooManyRequests')),
    deltaLinkExpired(error(503, 'serviceNotAvailable')),
    deltaLinkExpired({ status: 200, body: { value: [] } }),
  ]).toEqual([true, true, true, true, false, false, false, false]);
});
