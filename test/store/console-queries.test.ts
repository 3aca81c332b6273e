// The console's list queries: filters by sync state, source and text (start of a name, or an exact
// id or externalId), paging in name order, and counts by type and state that never mix the two.
import { openStore, type Store } from '../../src/store';

let store: Store;
const ids: Record<string, string> = {};

beforeAll(() => {
  store = openStore(':memory:', {
    mode: 'profile-sync',
    sources: [
      { id: 'okta', directories: [], contributes: [], seesAll: false },
      { id: 'hr', directories: [], contributes: [], seesAll: false },
    ],
  });
  const add = (key: string, sourceId: string, data: Record<string, unknown>) => {
    ids[key] = store.users.create(
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...data },
      { sourceId, attributes: ['userName'], sync: { dirSyncEnabled: false } },
    ).id;
  };
  add('ada', 'okta', { userName: 'ada@example.com', displayName: 'Ada Lovelace', name: { givenName: 'Ada', familyName: 'Lovelace' }, externalId: 'ext-ada' });
  add('grace', 'okta', { userName: 'Grace@example.com', displayName: 'Grace Hopper', name: { givenName: 'Grace', familyName: 'Hopper' } });
  add('linus', 'hr', { userName: 'linus@example.com', displayName: 'Linus T', name: { givenName: 'Linus', familyName: 'Torvalds' } });
  add('gone', 'hr', { userName: 'gone@example.com', displayName: 'Gone' });
  store.users.remove(ids.gone, { sourceId: 'hr' });
  store.sync.markApplied('User', ids.ada, 1, { graphId: 'g-ada' });
  store.sync.markFailed('User', ids.linus, 1, 'Graph said no');
});

afterAll(() => store.close());

const names = (filter: Parameters<Store['admin']['userList']>[0]) => {
  const r = store.admin.userList(filter);
  return [r.total, r.items.map((u) => u.userName)];
};

test('no filter: live users in case-insensitive name order, paged', () => {
  expect(names({ offset: 0, limit: 10 })).toEqual([3, ['ada@example.com', 'Grace@example.com', 'linus@example.com']]);
  expect(names({ offset: 1, limit: 1 })).toEqual([3, ['Grace@example.com']]);
  expect(names({ offset: 5, limit: 10 })).toEqual([3, []]);
});

test('filters by state, source and text, alone and together', () => {
  expect(names({ state: 'synced', offset: 0, limit: 10 })).toEqual([1, ['ada@example.com']]);
  expect(names({ state: 'error', offset: 0, limit: 10 })).toEqual([1, ['linus@example.com']]);
  expect(names({ state: 'pending', offset: 0, limit: 10 })).toEqual([1, ['Grace@example.com']]);
  expect(names({ source: 'hr', offset: 0, limit: 10 })).toEqual([1, ['linus@example.com']]);
  expect(names({ text: 'GRACE', offset: 0, limit: 10 })).toEqual([1, ['Grace@example.com']]);
  expect(names({ text: 'torv', offset: 0, limit: 10 })).toEqual([1, ['linus@example.com']]);
  expect(names({ text: 'Ada L', offset: 0, limit: 10 })).toEqual([1, ['ada@example.com']]);
  expect(names({ text: 'ext-ada', offset: 0, limit: 10 })).toEqual([1, ['ada@example.com']]);
  expect(names({ text: ids.grace, offset: 0, limit: 10 })).toEqual([1, ['Grace@example.com']]);
  expect(names({ text: 'ove', offset: 0, limit: 10 })).toEqual([0, []]);
  expect(names({ text: '%', offset: 0, limit: 10 })).toEqual([0, []]);
  expect(names({ text: 'gone', offset: 0, limit: 10 })).toEqual([0, []]);
  expect(names({ state: 'synced', source: 'hr', offset: 0, limit: 10 })).toEqual([0, []]);
  expect(names({ state: 'error', source: 'hr', text: 'lin', offset: 0, limit: 10 })).toEqual([1, ['linus@example.com']]);
  // An unknown state is no filter rather than an error.
  expect(names({ state: 'bogus', offset: 0, limit: 10 })[0]).toBe(3);
});

test('counts by type and state: deleted users count as deprovisioning until Graph follows', () => {
  expect(store.admin.countsByTypeAndState()).toEqual({
    User: { pending: 1, synced: 1, error: 1, blocked: 0, deprovisioning: 1, deprovisioned: 0 },
    Group: { pending: 0, synced: 0, error: 0, blocked: 0, deprovisioning: 0, deprovisioned: 0 },
  });
});

test('pending deletions per source, names of resources, audit filters', () => {
  expect(store.admin.pendingDeletions({ limit: 10 })).toEqual({
    bySource: [{ sourceId: 'hr', count: 1 }],
    items: [{ id: ids.gone, userName: 'gone@example.com', sourceId: 'hr', graphId: null, deletedAt: expect.any(String) }],
  });
  expect(
    store.admin.names([
      { type: 'User', id: ids.ada },
      { type: 'User', id: ids.gone },
      { type: 'Group', id: ids.ada },
    ]),
  ).toEqual(
    new Map([
      [`User:${ids.ada}`, 'ada@example.com'],
      [`User:${ids.gone}`, 'gone@example.com'],
    ]),
  );
  expect(store.admin.auditList({ action: 'user.', limit: 10 }).map((a) => a.action)).toEqual([
    'user.delete',
    'user.create',
    'user.create',
    'user.create',
    'user.create',
  ]);
  expect(store.admin.auditList({ action: 'user.delete', limit: 10 }).map((a) => a.resourceId)).toEqual([ids.gone]);
  expect(store.admin.auditList({ source: 'hr', limit: 10 }).map((a) => a.action)).toEqual(['user.delete', 'user.create', 'user.create']);
  expect(store.admin.auditList({ resourceId: ids.ada, limit: 10 }).map((a) => a.action)).toEqual(['user.create']);
  const all = store.admin.auditList({ limit: 10 });
  expect(store.admin.auditList({ beforeSeq: all[1].seq, limit: 10 }).map((a) => a.seq)).toEqual(all.slice(2).map((a) => a.seq));
  expect(store.admin.resourceFor({ graphId: 'g-ada' })).toEqual({ type: 'User', id: ids.ada });
  expect(store.admin.resourceFor({ graphId: 'unknown', userName: 'GRACE@example.com' })).toEqual({ type: 'User', id: ids.grace });
  expect(store.admin.resourceFor({ userName: 'gone@example.com' })).toBeNull();
});
