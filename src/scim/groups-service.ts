// /Groups: like users-service, with members kept out of the group's row. Member values that
// name no User or Group the source can see are dropped: ids are the bridge's own, so an
// unknown one can never become valid (Entra's reference collection adds "string id 1").
import type { ListedResource, MemberChanges, MemberRef, MemberView, Store } from '../store';
import { assertCanChange, assertOwner, assertVisible, type WriteOptions, canSee, checkIfMatch, ownerScope } from './access';
import { changedAttributes } from './attribution-keys';
import type { Principal } from './auth';
import { parseFilter } from './filter';
import { type IgnoredExtension, ignoredForAudit } from './foreign-extensions';
import { sortOf, type ListParams } from './list-params';
import { applyPatch } from './patch';
import { normaliseResource } from './resource-input';
import { resourceTypes } from './schema';
import type { WriteResult } from './users-service';

const GROUP = resourceTypes.Group;

export type GroupService = ReturnType<typeof createGroupService>;

export function createGroupService({ store }: { store: Store }) {
  function load(p: Principal, id: string): ListedResource {
    return assertVisible(p, store.queries.getGroup(id), 'Group', id);
  }

  /** Keeps the members that exist and are visible, typed by where they were found. */
  function resolve(p: Principal, refs: readonly MemberRef[] | undefined): MemberRef[] {
    if (!refs?.length) return [];
    const ids = refs.map((r) => r.value);
    const users = store.users.owners(ids);
    const groups = store.groups.owners(ids);
    const out: MemberRef[] = [];
    for (const ref of refs) {
      const owner = users.get(ref.value) ?? groups.get(ref.value);
      if (owner === undefined || !canSee(p, owner)) continue;
      out.push({ ...ref, type: users.has(ref.value) ? 'User' : 'Group' });
    }
    return out;
  }

  function resolveChanges(p: Principal, changes: MemberChanges[]): MemberChanges[] {
    return changes.map((c) => ({
      ...c,
      ...(c.add ? { add: resolve(p, c.add) } : {}),
      ...(c.replace ? { replace: resolve(p, c.replace) } : {}),
    }));
  }

  function write(p: Principal, row: ListedResource, data: Record<string, unknown>, members: MemberChanges[], action: string, opts: WriteOptions): WriteResult {
    const changed = changedAttributes(GROUP, row.data, data);
    const attributes = members.length ? [...changed, 'members'] : changed;
    assertCanChange(GROUP, p, row.sourceId, attributes);
    const result = store.groups.update(row.id, data, {
      sourceId: p.source.id,
      attributes,
      action,
      members: resolveChanges(p, members),
      expectedVersion: row.version,
      skipIfUnchanged: true,
      auditDetail: ignoredForAudit(opts.unknown),
    });
    return { resource: result.changed ? store.queries.getGroup(row.id)! : row, changed: result.changed };
  }

  return {
    get(p: Principal, id: string): ListedResource {
      return load(p, id);
    },

    members(id: string): MemberView[] {
      return store.groups.members(id);
    },

    /** `notes` collects the unknown extensions the filter names (they match as unassigned attributes). */
    list(p: Principal, params: ListParams, notes?: IgnoredExtension[]) {
      const filter = params.filter !== undefined && params.filter.trim() !== '' ? parseFilter(GROUP, params.filter, notes) : undefined;
      return store.queries.list('Group', { filter, sort: sortOf(GROUP, params), startIndex: params.startIndex, count: params.count, ownerId: ownerScope(p) });
    },

    create(p: Principal, body: unknown, opts: WriteOptions = {}): ListedResource {
      const input = normaliseResource(GROUP, body, opts.unknown);
      const members = resolve(p, input.members);
      const changed = changedAttributes(GROUP, null, input.data);
      const stored = store.groups.create(input.data, {
        sourceId: p.source.id,
        attributes: members.length ? [...changed, 'members'] : changed,
        members,
        auditDetail: ignoredForAudit(opts.unknown),
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
      const result = applyPatch(GROUP, row.data, body, { membersOf: () => store.groups.members(id), unknown: opts.unknown });
      return write(p, row, result.data, result.members, 'group.patch', opts);
    },

    remove(p: Principal, id: string, opts: WriteOptions = {}): void {
      const row = load(p, id);
      checkIfMatch(opts, row.version);
      assertOwner(p, row.sourceId, 'Group');
      store.groups.remove(id, { sourceId: p.source.id, expectedVersion: row.version });
    },
  };
}
