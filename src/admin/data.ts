// Fills the admin surface from the store's read-only views and the engine's status.
import type { Config } from '../config';
import type { Runtime } from '../main';
import type { AdminDataSource, HealthReport } from './types';

export function createAdminData({ config, runtime }: { config: Config; runtime: Runtime }): AdminDataSource {
  const { store, engine } = runtime;
  const views = store.admin;

  function health(): HealthReport {
    const status = engine.status();
    const queue = views.countsByState();
    const state = status.state === 'blocked' ? 'blocked' : queue.error > 0 || status.state === 'paused' ? 'degraded' : 'ok';
    return {
      status: state,
      mode: config.mode,
      engine: { state: status.state, reasons: status.reasons, warnings: status.warnings },
      graph: { simulator: Boolean(runtime.simulator), baseUrl: runtime.graphConfig.baseUrl, dryRun: config.graph.dryRun },
      queue,
    };
  }

  return {
    health,
    // Ready once preflight has answered: before that nothing is known of the tenant.
    ready: () => engine.status().preflight !== null,
    sources: () => views.sources(),
    users: (options) => views.users(options),
    queue: (limit) => views.queue(limit),
    graphLog: (limit) => runtime.graphLog.entries(limit),
    drift: (limit) => views.drift(limit),
    preflight: () => engine.status().preflight,
  };
}
