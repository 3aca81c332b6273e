// Fills the admin surface from the store's read-only views and the engine's status.
import type { Config } from '../config';
import type { ResourceType, Store } from '../store';
import type { SyncEngine } from '../sync/engine';
import { writesGroups } from '../sync/preflight';
import type { GraphLog } from './graph-log';
import type { AdminDataSource, ConsoleData, HealthReport } from './types';

export interface AdminDataDeps {
  config: Config;
  /** The store's read-only views. */
  views: Store['admin'];
  /** One resource's rows, for its console page. */
  records: Pick<Store, 'users' | 'groups' | 'sync' | 'attribution'>;
  engine: Pick<SyncEngine, 'health' | 'status' | 'syncNow' | 'retry' | 'approveDeletions' | 'rejectDeletions'>;
  graphLog: GraphLog;
  /** The Graph endpoint in effect, and whether it is the embedded simulator. */
  graph: { baseUrl: string; simulator: boolean };
}

export function createAdminData({ config, views, records, engine, graphLog, graph }: AdminDataDeps): AdminDataSource {
  function health(): HealthReport {
    const status = engine.health();
    const resources = views.countsByTypeAndState();
    const queue: Record<string, number> = { pending: 0, synced: 0, error: 0, blocked: 0 };
    for (const byState of Object.values(resources)) for (const [state, n] of Object.entries(byState)) queue[state] = (queue[state] ?? 0) + n;
    const failing = status.consecutiveFailedRuns > 0;
    const state = status.state === 'blocked' ? 'blocked' : queue.error > 0 || status.state === 'paused' || failing ? 'degraded' : 'ok';
    return {
      status: state,
      mode: config.mode,
      engine: {
        state: status.state,
        reasons: status.reasons,
        warnings: status.warnings,
        consecutiveFailedRuns: status.consecutiveFailedRuns,
        failedRuns: status.failedRuns,
        lastRunError: status.lastRunError,
      },
      graph: { simulator: graph.simulator, baseUrl: graph.baseUrl, dryRun: config.graph.dryRun },
      queue,
      resources,
    };
  }

  const consoleData: ConsoleData = {
    settings: {
      mode: config.mode,
      writeBudget: config.graph.writeBudget,
      resourceUnits: config.graph.resourceUnits,
      deletionThreshold: config.deletionThreshold,
      simulator: graph.simulator,
      dryRun: config.graph.dryRun,
      pushesGroups: writesGroups(config),
    },
    status: () => engine.status(),
    counts: () => views.countsByTypeAndState(),
    sources: () => views.sources(),
    users: (filter) => views.userList(filter),
    groups: (filter) => views.groupList(filter),
    resource(type: ResourceType, id: string) {
      const found = type === 'User' ? records.users.getForSync(id) : records.groups.getForSync(id);
      if (!found) return null;
      // A sync row carries no password, only whether one is pending (hasPendingPassword).
      const sync = records.sync.get(type, id);
      return {
        id: found.id,
        sourceId: found.sourceId,
        resource: found.resource,
        deleted: found.deleted,
        sync,
        attribution: records.attribution.list(type, id),
      };
    },
    groupMembers: (id, page) => views.groupMembers(id, page),
    groupsOfUser: (id) => views.groupsOfUser(id, 100),
    deletions: (source) => views.pendingDeletions({ source, limit: 500 }),
    drift: (limit) => views.drift(limit) as ReturnType<ConsoleData['drift']>,
    audit: (filter) => views.auditList(filter),
    auditOf: (type, id, limit) => views.auditOf(type, id, limit),
    names: (refs) => views.names(refs),
    graphLog,
    syncNow: (type, id) => engine.syncNow(type, id),
    retry: (type, id) => engine.retry(type, id),
    approveDeletions: (sourceId) => engine.approveDeletions(sourceId),
    rejectDeletions: (sourceId) => engine.rejectDeletions(sourceId),
  };

  return {
    health,
    // Ready once preflight has answered: before that nothing is known of the tenant.
    ready: () => engine.health().preflight !== null,
    sources: () => views.sources(),
    users: (options) => views.users(options),
    queue: (limit) => views.queue(limit),
    graphLog: (limit) => graphLog.entries(limit),
    drift: (limit) => views.drift(limit),
    preflight: () => engine.health().preflight,
    console: consoleData,
  };
}
