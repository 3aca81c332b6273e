// Accidental-deletion protection (SPEC section 7): more than `threshold` deprovisions (SCIM deletes
// and deactivations with active=false alike) from one source within an hour pauses that source's deprovisioning until an operator approves, as
// Entra Connect's "prevent accidental deletes" does. The deprovisions still pending are counted
// with the ones done, so a restart with a mass delete queued trips the guard again.
import type { Clock } from './clock';

export const DELETION_WINDOW_MS = 60 * 60 * 1000;

export interface DeletionDecision {
  allowed: string[];
  held: string[];
}

export interface HeldSource {
  sourceId: string;
  pending: number;
  recent: number;
}

export interface DeletionGuard {
  /** Which of a source's pending deprovisions may run now. `pending` is every one the source has queued. */
  decide(sourceId: string, pending: string[]): DeletionDecision;
  /** A deprovision was applied in Graph. */
  record(sourceId: string, resourceId: string): void;
  /** Operator approval: everything held now (for one source, or all) may run; the hour's count starts again. */
  approve(sourceId?: string): string[];
  held(): HeldSource[];
  /** The ids held now, by source (what approve() would release). */
  heldIds(): { sourceId: string; ids: string[] }[];
  /** Approvals recorded elsewhere (another process ran approve-deletions). */
  approveIds(ids: readonly string[]): void;
}

export function createDeletionGuard(options: {
  threshold: number;
  clock: Clock;
  windowMs?: number;
  approved?: readonly string[];
  /** Deprovisions already applied within the window (from the audit), so a restart does not reset the count. */
  recent?: readonly { sourceId: string; atMs: number }[];
}): DeletionGuard {
  const windowMs = options.windowMs ?? DELETION_WINDOW_MS;
  const done = new Map<string, number[]>();
  for (const r of options.recent ?? []) done.set(r.sourceId, [...(done.get(r.sourceId) ?? []), r.atMs]);
  // Approvals survive a restart: the engine persists them and passes them back in.
  const approved = new Set<string>(options.approved ?? []);
  const heldNow = new Map<string, string[]>();

  const recent = (sourceId: string) => {
    const since = options.clock.now() - windowMs;
    const list = (done.get(sourceId) ?? []).filter((t) => t > since);
    done.set(sourceId, list);
    return list.length;
  };

  return {
    decide(sourceId, pending) {
      const waiting = pending.filter((id) => !approved.has(id));
      const preApproved = pending.filter((id) => approved.has(id));
      if (waiting.length === 0 || recent(sourceId) + waiting.length <= options.threshold) {
        heldNow.delete(sourceId);
        return { allowed: pending, held: [] };
      }
      heldNow.set(sourceId, waiting);
      return { allowed: preApproved, held: waiting };
    },
    record(sourceId, resourceId) {
      approved.delete(resourceId);
      recent(sourceId);
      done.get(sourceId)!.push(options.clock.now());
    },
    approve(only) {
      const entries = [...heldNow.entries()].filter(([sourceId]) => only === undefined || sourceId === only);
      const ids = entries.flatMap(([, list]) => list);
      ids.forEach((id) => approved.add(id));
      for (const [sourceId] of entries) {
        done.set(sourceId, []);
        heldNow.delete(sourceId);
      }
      return ids;
    },
    approveIds: (ids) => ids.forEach((id) => approved.add(id)),
    heldIds: () => [...heldNow.entries()].map(([sourceId, ids]) => ({ sourceId, ids: [...ids] })),
    held: () => [...heldNow.entries()].map(([sourceId, ids]) => ({ sourceId, pending: ids.length, recent: recent(sourceId) })),
  };
}
