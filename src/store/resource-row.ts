// The row shape users and groups share, and the two views of it that leave store/.
import type { ForSync, ResourceType, StoredResource } from './types';

export interface ResourceRow {
  id: string;
  source_id: string;
  data: string;
  version: number;
  created: string;
  last_modified: string;
  deleted: number;
}

export const toStored = (r: Omit<ResourceRow, 'deleted'>): StoredResource => ({
  id: r.id,
  sourceId: r.source_id,
  version: r.version,
  created: r.created,
  lastModified: r.last_modified,
  data: JSON.parse(r.data),
});

/** For sync/: the resource with id and meta (deleted ones too, until deprovisioned). */
export function toForSync(r: ResourceRow, resourceType: ResourceType): ForSync {
  const data = JSON.parse(r.data) as Record<string, unknown>;
  return {
    id: r.id,
    sourceId: r.source_id,
    resource: { ...data, id: r.id, meta: { resourceType, created: r.created, lastModified: r.last_modified, version: `W/"${r.version}"` } },
    deleted: r.deleted === 1,
  };
}
