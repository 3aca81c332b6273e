// Whole-run failures of the sync engine in /metrics: consecutive failures from the engine's telemetry
// at scrape time, and every failed run counted by outcome as the run ends.
import { createMetrics } from '../../src/admin/metrics';
import type { EngineTelemetry, RunSummary } from '../../src/sync/engine';

const telemetry = (consecutiveFailedRuns: number): EngineTelemetry =>
  ({
    resources: [],
    queueDepth: 0,
    oldestChangeAt: null,
    pendingDeletions: [],
    blocked: false,
    consecutiveFailedRuns,
    graph: { requests: 0, writes: 0, throttled: 0, throttledMs: 0 },
    writeBudget: { capacity: 3000, available: 3000, spent: 0, pausedUntil: 0 },
    resourceUnits: { capacity: 3500, available: 3500, spent: 0, pausedUntil: 0 },
  }) as unknown as EngineTelemetry;

it('exposes consecutive failed runs, and counts failed runs by outcome', async () => {
  const metrics = createMetrics(() => ({ telemetry: () => telemetry(3) }));
  for (let i = 0; i < 2; i++) metrics.observeRun({ error: 'database disk image is malformed', blocked: null } as RunSummary, Date.now());
  const text = await metrics.registry.metrics();
  expect(text).toContain('# TYPE bridge_sync_consecutive_failed_runs gauge\nbridge_sync_consecutive_failed_runs 3\n');
  expect(text).toContain('bridge_sync_runs_total{outcome="failed"} 2');
});
