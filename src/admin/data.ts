// Fills the admin surface from the store's read-only views and the engine's status.
import type { Config } from '../config';
import type { Store } from '../store';
import type { SyncEngine } from '../sync/engine';
import type { GraphLog } from './graph-log';
import type { AdminDataSource, HealthReport } from './types';

export interface AdminDataDeps {
  config: Config;
  /** The store's read-only views. */
  views: Store['admin'];
  engine: Pick<SyncEngine, 'status'>;
  graphLog: Pick<GraphLog, 'entries'>;
  /** The Graph endpoint in effect, and whether it is the embedded simulator. */
  graph: { baseUrl: string; simulator: boolean };
}

export function createAdminData({ config, views, engine, graphLog, graph }: AdminDataDeps): AdminDataSource {

  function health(): HealthReport {
    const status = engine.status();
    const queue = views.countsByState();
    const state = status.state === 'blocked' ? 'blocked' : queue.error > 0 || status.state === 'paused' ? 'degraded' : 'ok';
    return {
      status: state,
      mode: config.mode,
      engine: { state: status.state, reasons: status.reasons, warnings: status.warnings },
      graph: { simulator: graph.simulator, baseUrl: graph.baseUrl, dryRun: config.graph.dryRun },
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
    graphLog: (limit) => graphLog.entries(limit),
    drift: (limit) => views.drift(limit),
    preflight: () => engine.status().preflight,
  };
}
