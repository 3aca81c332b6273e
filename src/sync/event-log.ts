// The engine's log lines, one per event: what an operator reads to follow provisioning without the
// dashboard. Each run that did anything logs its summary at info (idle runs at debug); a resource
// that goes to error logs Graph's message (already redacted); deletion pauses log when the held
// count of a source changes, not on every pass (and again after an approval); the tenant switch logs once;
// preflight results are logged by the gate.
import type { Logger } from '../log';
import type { SyncEvent } from './events';

export interface EventLogger {
  log(event: SyncEvent): void;
  /** Held deprovisions were approved: the next pause of any source is news again. */
  approved(count: number): void;
}

export function createEventLogger(logger: Logger): EventLogger {
  const heldLogged = new Map<string, number>();
  const log = (event: SyncEvent): void => {
    switch (event.type) {
      case 'run': {
        const s = event.summary as Record<string, unknown> & { blocked?: string[] | null; error?: string };
        if (s.error) return; // the run's failure was logged where it was caught, with its reason
        const { startedAt: _startedAt, blocked, ...counts } = s;
        const busy = ['applied', 'created', 'matched', 'failed', 'retried', 'deprovisioned', 'requests', 'planned'].some((k) => Number(counts[k] ?? 0) > 0);
        const line = { ...counts, ...(blocked ? { blocked: true } : {}) };
        if (busy) logger.info(line, 'sync run');
        else logger.debug(line, 'sync run');
        return;
      }
      case 'error':
        logger.warn({ resourceType: event.resourceType, resourceId: event.id, graphError: event.message }, 'resource sync failed');
        return;
      case 'created':
      case 'matched':
      case 'deprovisioned':
        logger.debug({ resourceType: event.resourceType, resourceId: event.id, graphId: event.graphId }, `resource ${event.type}`);
        return;
      case 'drift':
        logger.info(
          { resourceType: event.resourceType, resourceId: event.id, graphId: event.graphId, attributes: event.attributes },
          'drift found in Graph; reverting',
        );
        return;
      case 'deletions-held':
        if (heldLogged.get(event.sourceId) === event.pending) return;
        heldLogged.set(event.sourceId, event.pending);
        logger.warn({ sourceId: event.sourceId, pending: event.pending }, 'deprovisioning paused by the deletion threshold; approve with approve-deletions');
        return;
      case 'blocked':
      case 'unblocked':
        return; // the gate logs each preflight result with its reasons
      case 'tenant-dirsync-enabled':
        logger.info({ organizationId: event.organizationId }, 'tenant switch: organization.onPremisesSyncEnabled turned on');
        return;
    }
  };
  return {
    log,
    approved(count) {
      heldLogged.clear();
      logger.info({ approved: count }, 'held deprovisions approved');
    },
  };
}
