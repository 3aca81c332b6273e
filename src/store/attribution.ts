// Per-attribute attribution (SPEC section 3): which source last set each attribute, and when.
// Written in the same transaction as the resource, as one row per resource (migration 5): a JSON
// object {attribute: [sourceId, setAt]} that each write merges its attributes into.
import type { Database } from 'better-sqlite3';
import type { ResourceType } from './types';

export interface Attribution {
  attribute: string;
  sourceId: string;
  setAt: string;
}

export type AttributionStore = ReturnType<typeof createAttributionStore>;

/** The stored object as a list ordered by attribute. */
export function attributionList(attrs: string | null | undefined): Attribution[] {
  if (!attrs) return [];
  const parsed = JSON.parse(attrs) as Record<string, [string, string]>;
  return Object.keys(parsed)
    .sort()
    .map((attribute) => ({ attribute, sourceId: parsed[attribute][0], setAt: parsed[attribute][1] }));
}

export function createAttributionStore(db: Database) {
  // One statement per write: the first write inserts, later ones merge (json_patch replaces the
  // entries of the attributes named and keeps the others).
  const upsert = db.prepare(`INSERT INTO resource_attribution (resource_type, resource_id, attrs) VALUES (?, ?, ?)
    ON CONFLICT (resource_type, resource_id) DO UPDATE SET attrs = json_patch(attrs, excluded.attrs)`);
  const get = db.prepare(`SELECT attrs FROM resource_attribution WHERE resource_type = ? AND resource_id = ?`).pluck();
  return {
    record(type: ResourceType, id: string, attributes: readonly string[], sourceId: string, at: string): void {
      if (!attributes.length) return;
      const entry = [sourceId, at];
      const attrs: Record<string, string[]> = {};
      for (const attribute of attributes) attrs[attribute] = entry;
      upsert.run(type, id, JSON.stringify(attrs));
    },
    list(type: ResourceType, id: string): Attribution[] {
      return attributionList(get.get(type, id) as string | undefined);
    },
  };
}
