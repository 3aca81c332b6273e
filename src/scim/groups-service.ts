// /Groups: like users-service, with members kept out of the group's row. Member values must name a
// User or Group both the writing source and the group's owner can see (references.ts), and a read
// shows only the members the reader can see.
import type { ListedResource, MemberChanges, MemberView, Store } from '../store';
import { assertCanChange, assertOwner, assertVisible, type WriteOptions, checkIfMatch, ownerScope } from './access';
import { changedAttributes } from './attribution-keys';
import type { Principal } from './auth';
import { parseFilter } from './filter';
import { type IgnoredExtension, ignoredForAudit } from './foreign-extensions';
import { sortOf, type ListParams } from './list-params';
import { applyPatch } from './patch';
import { createReferenceChecker } from './references';
import { normaliseResource } from './resource-input';
import { licenceGroupSkus } from '../rules/licences';
import { resourceTypes } from './schema';
import type { WriteResult } from './users-service';

const GROUP = resourceTypes.Group;

export type GroupService = ReturnType<typeof createGroupService>;

/**
 * licenceGroups: config licenses.groups. A member leaving a group it maps (or the group's deletion)
 * is a licence removal, which goes ahead of creations like other changes to users already in Graph.
 */
export function createGroupService({ store, licenceGroups = {} }: { store: Store; licenceGroups?: Readonly<Record<string, readonly string[]>> }) {
  const carriesLicences = (id: string, ...names: unknown[]) => names.some((n) => licenceGroupSkus(licenceGroups, id, String(n ?? '')).length > 0);

  function load(p: Principal, id: string): ListedResource {
    return assertVisible(p, store.queries.getGroup(id), 'Group', id);
  }

  const references = createReferenceChecker(store);

  /** Member adds and replaces checked against what the writer and the group's owner can see; removes as given. */
  function resolveChanges(p: Principal, ownerId: string, changes: MemberChanges[], dropped: string[]): MemberChanges[] {
    const check = (refs: MemberChanges['add']) => {
      const r = references.members(p, ownerId, refs);
      dropped.push(...r.dropped);
      return r.kept;
    };
    return changes.map((c) => ({ ...c, ...(c.add ? { add: check(c.add) } : {}), ...(c.replace ? { replace: check(c.replace) } : {}) }));
  }

  const auditOf = (opts: WriteOptions, dropped: string[]) => {
    const ignored = ignoredForAudit(opts.unknown);
    return dropped.length ? { ...ignored, droppedMembers: dropped } : ignored;
  };

  function write(p: Principal, row: ListedResource, data: Record<string, unknown>, members: MemberChanges[], action: string, opts: WriteOptions): WriteResult {
    const changed = changedAttributes(GROUP, row.data, data);
    const attributes = members.length ? [...changed, 'members'] : changed;
    assertCanChange(GROUP, p, row.sourceId, attributes);
    const dropped: string[] = [];
    const resolved = resolveChanges(p, row.sourceId, members, dropped);
    const result = store.groups.update(row.id, data, {
      sourceId: p.source.id,
      attributes,
      action,
      members: resolved,
      expectedVersion: row.version,
      skipIfUnchanged: true,
      auditDetail: auditOf(opts, dropped),
      leaversUrgent: carriesLicences(row.id, row.data.displayName, data.displayName),
    });
    return { resource: result.changed ? store.queries.getGroup(row.id)! : row, changed: result.changed };
  }

  return {
    get(p: Principal, id: string): ListedResource {
      return load(p, id);
    },

    /** The members `p` can see (a source never learns of another source's users through a group). */
    members(p: Principal, id: string): MemberView[] {
      return store.groups.members(id, ownerScope(p));
    },

    /** `notes` collects the unknown extensions the filter names (they match as unassigned attributes). */
    list(p: Principal, params: ListParams, notes?: IgnoredExtension[]) {
      const filter = params.filter !== undefined && params.filter.trim() !== '' ? parseFilter(GROUP, params.filter, notes) : undefined;
      return store.queries.list('Group', { filter, sort: sortOf(GROUP, params), startIndex: params.startIndex, count: params.count, ownerId: ownerScope(p) });
    },

    create(p: Principal, body: unknown, opts: WriteOptions = {}): ListedResource {
      const input = normaliseResource(GROUP, body, opts.unknown);
      const { kept: members, dropped } = references.members(p, p.source.id, input.members);
      const changed = changedAttributes(GROUP, null, input.data);
      const stored = store.groups.create(input.data, {
        sourceId: p.source.id,
        attributes: members.length ? [...changed, 'members'] : changed,
        members,
        auditDetail: auditOf(opts, dropped),
      });
      return store.queries.getGroup(stored.id)!;
    },

    /** PUT replaces the members too: a body without members leaves the group empty (RFC 7644 section 3.5.1). */
    replace(p: Principal, id: string, body: unknown, opts: WriteOptions = {}): WriteResult {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      const input = normaliseResource(GROUP, body, opts.unknown);
      return write(p, row, input.data, [{ replace: input.members ?? [] }], 'group.replace', opts);
    },

    patch(p: Principal, id: string, body: unknown, opts: WriteOptions = {}): WriteResult {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      const result = applyPatch(GROUP, row.data, body, { membersOf: () => store.groups.members(id, ownerScope(p)), unknown: opts.unknown });
      return write(p, row, result.data, result.members, 'group.patch', opts);
    },

    remove(p: Principal, id: string, opts: WriteOptions = {}): void {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      assertOwner(p, row.sourceId, 'Group');
      store.groups.remove(id, { sourceId: p.source.id, expectedVersion: row.version, leaversUrgent: carriesLicences(id, row.data.displayName) });
    },
  };
}
