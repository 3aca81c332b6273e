// Per-attribute attribution (SPEC section 3): which source last set each attribute, and when.
// Written in the same transaction as the resource.
import type { Database } from 'better-sqlite3';
import type { ResourceType } from './types';

export interface Attribution {
  attribute: string;
  sourceId: string;
  setAt: string;
}

export type AttributionStore = ReturnType<typeof createAttributionStore>;

export function createAttributionStore(db: Database) {
  const upsert = db.prepare(`INSERT INTO attribution (resource_type, resource_id, attribute, source_id, set_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (resource_type, resource_id, attribute) DO UPDATE SET source_id = excluded.source_id, set_at = excluded.set_at`);
  const list = db.prepare(`SELECT attribute, source_id, set_at FROM attribution
    WHERE resource_type = ? AND resource_id = ? ORDER BY attribute`);
  return {
    record(type: ResourceType, id: string, attributes: readonly string[], sourceId: string, at: string): void {
      for (const attribute of attributes) upsert.run(type, id, attribute, sourceId, at);
    },
    list(type: ResourceType, id: string): Attribution[] {
      return (list.all(type, id) as { attribute: string; source_id: string; set_at: string }[]).map((r) => ({
        attribute: r.attribute,
        sourceId: r.source_id,
        setAt: r.set_at,
      }));
    },
  };
}
