import { createAdminData } from '../../../src/admin/data';
import { createGraphLog } from '../../../src/admin/graph-log';
import type { Config } from '../../../src/config';
import type { Store } from '../../../src/store';
import type { EngineHealth } from '../../../src/sync/engine';

// /healthz and /readyz answer every probe: they read the engine's health (state, reasons and preflight verdict),
// never its full status (which counts the sync table and reads the queue again).
describe('admin data for the probes', () => {
  const condition: EngineHealth = {
    state: 'running',
    reasons: [],
    warnings: ['w'],
    pendingDeletions: [],
    preflight: null,
    consecutiveFailedRuns: 0,
    lastRunError: null,
    failedRuns: 0,
  };
  const counts = { User: { pending: 1, synced: 2, error: 0, blocked: 0 }, Group: { pending: 0, synced: 0, error: 0, blocked: 0 } };
  const data = createAdminData({
    config: { mode: 'user-sync', graph: { dryRun: false }, groups: { push: false } } as unknown as Config,
    views: { countsByTypeAndState: () => counts } as unknown as Store['admin'],
    records: {} as Pick<Store, 'users' | 'groups' | 'sync' | 'attribution'>,
    engine: {
      status: () => {
        throw new Error('the probes must not ask for the full status');
      },
      health: () => condition,
      syncNow: jest.fn(),
      retry: jest.fn(),
      approveDeletions: jest.fn(),
      rejectDeletions: jest.fn(),
    },
    graphLog: createGraphLog(),
    graph: { baseUrl: 'http://graph', simulator: true },
  });

  it('health reads the condition and one count by type and state', () => {
    const report = data.health();
    expect(report.status).toBe('ok');
    expect(report.engine).toEqual({ state: 'running', reasons: [], warnings: ['w'], consecutiveFailedRuns: 0, failedRuns: 0, lastRunError: null });
    expect(report.queue).toEqual({ pending: 1, synced: 2, error: 0, blocked: 0 });
  });

  it('ready and preflight read the preflight verdict alone', () => {
    expect(data.ready()).toBe(false);
    expect(data.preflight()).toBeNull();
  });
});
