// Append-only audit log: who (source) did what to which resource, never attribute values.
// Triggers in the schema refuse UPDATE and DELETE.
import type { Database } from 'better-sqlite3';

export interface AuditEntry {
  seq: number;
  at: string;
  sourceId: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  detail: unknown;
}

export interface AuditInput {
  sourceId?: string | null;
  action: string;
  resourceType?: string | null;
  resourceId?: string | null;
  detail?: unknown;
  at?: Date;
}

export type AuditStore = ReturnType<typeof createAuditStore>;

export function createAuditStore(db: Database) {
  const insert = db.prepare(`INSERT INTO audit (at, source_id, action, resource_type, resource_id, detail)
    VALUES (?, ?, ?, ?, ?, ?)`);
  const list = db.prepare(`SELECT seq, at, source_id, action, resource_type, resource_id, detail FROM audit
    WHERE (@type IS NULL OR resource_type = @type) AND (@id IS NULL OR resource_id = @id) AND seq > @after
    ORDER BY seq LIMIT @limit`);
  return {
    append(entry: AuditInput): void {
      insert.run(
        (entry.at ?? new Date()).toISOString(),
        entry.sourceId ?? null,
        entry.action,
        entry.resourceType ?? null,
        entry.resourceId ?? null,
        entry.detail === undefined ? null : JSON.stringify(entry.detail),
      );
    },
    list(filter: { resourceType?: string; resourceId?: string; afterSeq?: number; limit?: number } = {}): AuditEntry[] {
      const rows = list.all({
        type: filter.resourceType ?? null,
        id: filter.resourceId ?? null,
        after: filter.afterSeq ?? 0,
        limit: filter.limit ?? 1000,
      }) as Record<string, unknown>[];
      return rows.map((r) => ({
        seq: r.seq as number,
        at: r.at as string,
        sourceId: r.source_id as string | null,
        action: r.action as string,
        resourceType: r.resource_type as string | null,
        resourceId: r.resource_id as string | null,
        detail: r.detail === null ? null : JSON.parse(r.detail as string),
      }));
    },
  };
}
