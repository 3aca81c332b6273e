// References between resources (a group's members, a user's enterprise manager) must name a resource
// that both the writing source and the referring resource's owner can see (SPEC section 3): a source
// never links, or learns of, what another source owns. A reference that fails is 400 invalidValue and
// nothing is written; the message is the same whether the id never existed or another source owns it,
// so the answer reveals nothing. Two kinds of value are dropped instead of refused:
// - a resource the source could see that was deleted meanwhile (the IdP's queued write raced its own
//   delete; the delete already took the resource out of its groups, and wins);
// - a member or manager value that cannot be any bridge id at all (ids are UUIDs): it names nothing on
//   any source, so dropping it reveals nothing, and Microsoft's SCIM reference collection adds "string
//   id 1" to a group (expecting 204) and creates a user with manager "SuzzyQ" (expecting 201).
import type { MemberRef, SourceRecord, Store } from '../store';
import type { Principal } from './auth';
import { invalidValue } from '../errors';

const BRIDGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Owner = Pick<SourceRecord, 'id' | 'seesAll' | 'contributes'>;

/** Whether resources owned by `ownerId` are visible to `source` (access.ts ownerScope, for any source). */
function sees(source: Owner, ownerId: string): boolean {
  return ownerId === source.id || source.seesAll || source.contributes.length > 0;
}

const shown = (v: string) => (v.length > 100 ? `${v.slice(0, 100)}...` : v);

export interface Resolved<T> {
  kept: T[];
  /** Values dropped (deleted meanwhile, or not a bridge id), for the write's audit row. */
  dropped: string[];
}

export function createReferenceChecker(store: Store) {
  /** The source that owns the referring resource, as a visibility rule. */
  function ownerOf(p: Principal, ownerId: string): Owner {
    if (ownerId === p.source.id) return p.source;
    return store.sources.get(ownerId) ?? { id: ownerId, seesAll: false, contributes: [] };
  }

  return {
    /** Group members: typed by where they were found (a User or a Group). Throws 400 invalidValue. */
    members(p: Principal, groupOwnerId: string, refs: readonly MemberRef[] | undefined): Resolved<MemberRef> {
      if (!refs?.length) return { kept: [], dropped: [] };
      const owner = ownerOf(p, groupOwnerId);
      const ids = refs.map((r) => r.value).filter((v) => BRIDGE_ID.test(v));
      const users = store.users.references(ids);
      const groups = store.groups.references(ids);
      const kept: MemberRef[] = [];
      const dropped: string[] = [];
      for (const ref of refs) {
        if (!BRIDGE_ID.test(ref.value)) {
          dropped.push(shown(ref.value));
          continue;
        }
        const found = users.get(ref.value) ?? groups.get(ref.value);
        const visible = found !== undefined && sees(p.source, found.sourceId) && sees(owner, found.sourceId);
        if (!visible) throw invalidValue(`members[].value "${shown(ref.value)}" names no User or Group this source can see`);
        if (found.deleted) dropped.push(ref.value);
        else kept.push({ ...ref, type: users.has(ref.value) ? 'User' : 'Group' });
      }
      return { kept, dropped };
    },

    /**
     * The enterprise manager of a user owned by `userOwnerId`: 'keep' when it names a visible live User,
     * 'drop' when that User was deleted meanwhile or the value cannot be a bridge id (Microsoft's reference
     * collection creates a user with manager "SuzzyQ" and expects 201). Throws 400 invalidValue otherwise.
     */
    manager(p: Principal, userOwnerId: string, value: string, path: string): 'keep' | 'drop' {
      if (!BRIDGE_ID.test(value)) return 'drop';
      const found = store.users.references([value]).get(value);
      if (found && sees(p.source, found.sourceId) && sees(ownerOf(p, userOwnerId), found.sourceId)) return found.deleted ? 'drop' : 'keep';
      throw invalidValue(`${path} "${shown(value)}" names no User this source can see`);
    },
  };
}
