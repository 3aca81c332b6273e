import { createMetrics } from '../../../src/admin/metrics';
import type { EngineTelemetry } from '../../../src/sync/engine';

const telemetry: EngineTelemetry = {
  resources: [{ type: 'User', state: 'synced', count: 3 }],
  queueDepth: 2,
  oldestChangeAt: null,
  pendingDeletions: [],
  blocked: false,
  consecutiveFailedRuns: 1,
  graph: { throttled: 0, throttledMs: 0 } as EngineTelemetry['graph'],
  writeBudget: { capacity: 3000, available: 2990, spent: 10, pausedUntil: 0 },
  resourceUnits: { capacity: 3500, available: 3500, spent: 0, pausedUntil: 0 },
};

// Each engine reading counts the sync table: a scrape reads the engine once, whatever the number of series.
test('a scrape reads the engine telemetry once, and the next scrape reads it afresh', async () => {
  const read = jest.fn(() => telemetry);
  const metrics = createMetrics(() => ({ telemetry: read }));
  const text = await metrics.registry.metrics();
  expect(read).toHaveBeenCalledTimes(1);
  expect(text).toMatch(/^bridge_queue_depth 2$/m);
  expect(text).toMatch(/^bridge_sync_consecutive_failed_runs 1$/m);
  expect(text).toMatch(/^bridge_graph_write_budget_available 2990$/m);
  await new Promise((r) => setImmediate(r));
  await metrics.registry.metrics();
  expect(read).toHaveBeenCalledTimes(2);
});
