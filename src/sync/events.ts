// Events the engine reports to the admin dashboard, the CLI and tests.
export type SyncEvent =
  | { type: 'error'; resourceType: 'User' | 'Group'; id: string; message: string; at: string }
  | { type: 'created' | 'matched' | 'deprovisioned'; resourceType: 'User' | 'Group'; id: string; graphId: string; at: string }
  | { type: 'applied'; resourceType: 'User' | 'Group'; id: string; version: number; at: string }
  | { type: 'drift'; resourceType: 'User' | 'Group'; id: string; graphId: string; attributes: string[]; at: string }
  | { type: 'blocked'; reasons: string[]; at: string }
  | { type: 'unblocked'; at: string }
  | { type: 'deletions-held'; sourceId: string; pending: number; at: string }
  | { type: 'tenant-dirsync-enabled'; organizationId: string; at: string }
  | { type: 'run'; summary: unknown; at: string };

export type SyncEventListener = (event: SyncEvent) => void;

export function createEventHub() {
  const listeners = new Set<SyncEventListener>();
  return {
    on(listener: SyncEventListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event: SyncEvent): void {
      for (const l of listeners) {
        try {
          l(event);
        } catch {
          // A listener's failure is its own; the engine carries on.
        }
      }
    },
  };
}
