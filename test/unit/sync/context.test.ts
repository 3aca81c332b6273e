// What the engine records as a resource's error reaches lastError, SCIM and the dashboard: no secret in it.
import type { EngineContext } from '../../../src/sync/context';
import { failRow, retryRow, waitRow } from '../../../src/sync/context';
import type { SyncRow } from '../../../src/store';

function fakeCtx() {
  const recorded: string[] = [];
  const ctx = {
    store: {
      sync: {
        markFailed: (_t: string, _i: string, _v: number, message: string) => void recorded.push(message),
        markRetry: (_t: string, _i: string, message: string) => void recorded.push(message),
      },
    },
    counters: { failed: 0, retried: 0 },
    emit: () => undefined,
    clock: { now: () => 0 },
    retry: { baseMs: 10, capMs: 100 },
    secrets: ['Xy7-client-secret-value', undefined],
  } as unknown as EngineContext;
  return { ctx, recorded };
}

const row = { type: 'User', id: 'u1', desiredVersion: 2, appliedVersion: 1, attempts: 0 } as SyncRow;

test("failRow, retryRow and waitRow record Graph's message with secrets, bearer tokens and passwords taken out", () => {
  const { ctx, recorded } = fakeCtx();
  const raw = 'AADSTS7000215: Invalid client secret provided: Xy7-client-secret-value; Authorization: Bearer abc.def.ghi; {"password":"Pa55word!"}';
  failRow(ctx, row, raw);
  retryRow(ctx, row, raw);
  waitRow(ctx, row, raw);
  expect(recorded).toHaveLength(3);
  for (const message of recorded) {
    expect(message).toContain('AADSTS7000215: Invalid client secret provided: [redacted]');
    expect(message).not.toContain('Xy7-client-secret-value');
    expect(message).not.toContain('abc.def.ghi');
    expect(message).not.toContain('Pa55word!');
  }
});
