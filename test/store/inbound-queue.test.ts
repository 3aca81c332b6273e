// The inbound writer's queue (migration 12): records survive a reopen in every state, a newer
// record supersedes one not yet sent, urgent records go first without starving the others.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store';

const sources = [{ id: 'okta', directories: [], contributes: [], seesAll: false }];
const order = { order: 'priority' as const, creationEvery: 2 };
const op = (n: number) => ({ method: 'POST', bulkId: `b${n}`, path: '/Users', data: { externalId: `k${n}` } });
const stage = (store: Store, n: number, urgent = false, resourceId = `u${n}`, version = 1) =>
  store.inbound.stage(
    { resourceId, version, kind: 'upsert', externalId: `k${n}`, bulkId: `b${n}`, operation: op(n), applies: { properties: { n } }, urgent },
    1000 + n,
  );

test('records survive a reopen: queued, sent with its time, and settled with the log entry', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'inbound-q-')), 'b.sqlite');
  let store = openStore(path, { mode: 'profile-sync', sources });
  stage(store, 1);
  stage(store, 2);
  stage(store, 3);
  const [a, b] = store.inbound.next(2, order);
  store.inbound.markSent([a.seq, b.seq], 5000);
  store.inbound.settle(a.seq, 'done', { logId: 'log-1', targetId: 'g-1', outcome: 'success' });
  store.close();
  store = openStore(path, { mode: 'profile-sync', sources });
  expect(store.inbound.counts()).toEqual({ queued: 1, sent: 1, awaiting: 0, done: 1 });
  expect(store.inbound.inFlight()).toEqual([
    {
      seq: b.seq,
      resourceId: 'u2',
      version: 1,
      kind: 'upsert',
      externalId: 'k2',
      bulkId: 'b2',
      operation: op(2),
      applies: { properties: { n: 2 } },
      urgent: false,
      state: 'sent',
      queuedAt: 1002,
      sentAt: 5000,
      attempts: 1,
      logId: null,
      targetId: null,
      outcome: null,
    },
  ]);
  expect(store.inbound.logSeen('log-1')).toBe(true);
  expect(store.inbound.oldestSentFor('k2', 4999)).toBeNull();
  expect(store.inbound.oldestSentFor('k2', 5000)?.bulkId).toBe('b2');
  expect(store.inbound.oldestSentAt()).toBe(5000);
  expect(store.inbound.awaiting()).toEqual([]);
  store.inbound.settle(b.seq, 'awaiting', { logId: 'log-2', targetId: 'ad-2', outcome: 'success' });
  expect(store.inbound.awaiting().map((r) => [r.bulkId, r.targetId])).toEqual([['b2', 'ad-2']]);
  store.close();
});

test('every awaiting record is looked up again, however many records are sent ahead of it', () => {
  const store = openStore(':memory:', { mode: 'profile-sync', sources });
  for (let i = 1; i <= 1001; i++) stage(store, i);
  const all = store.inbound.next(2000, order);
  store.inbound.markSent(
    all.map((r) => r.seq),
    5000,
  );
  store.inbound.settle(all[1000].seq, 'awaiting', { logId: 'log-1001', targetId: 'ad-1001', outcome: 'success' });
  expect(store.inbound.awaiting().map((r) => r.bulkId)).toEqual(['b1001']);
  store.close();
});

test('a newer record of a user replaces the one still queued; one already sent is kept and followed', () => {
  const store = openStore(':memory:', { mode: 'profile-sync', sources });
  stage(store, 1, false, 'u1', 1);
  stage(store, 2, false, 'u1', 2);
  expect(store.inbound.next(10, order).map((r) => [r.resourceId, r.version])).toEqual([['u1', 2]]);
  store.inbound.markSent([store.inbound.next(10, order)[0].seq], 10);
  stage(store, 3, true, 'u1', 3);
  expect(store.inbound.counts()).toEqual({ queued: 1, sent: 1, awaiting: 0, done: 0 });
  expect(store.inbound.latest('u1')?.version).toBe(3);
  store.close();
});

test('a record that replaces one still queued keeps its queue time: a user changed again and again is not put off', () => {
  const store = openStore(':memory:', { mode: 'profile-sync', sources });
  stage(store, 1, false, 'u1', 1);
  stage(store, 2, false, 'u1', 2);
  expect(store.inbound.next(10, order).map((r) => [r.bulkId, r.queuedAt])).toEqual([['b2', 1001]]);
  // Once sent, the next change of the user is queued at its own time.
  store.inbound.markSent([store.inbound.next(10, order)[0].seq], 1002);
  stage(store, 3, false, 'u1', 3);
  expect(store.inbound.next(10, order).map((r) => [r.bulkId, r.queuedAt])).toEqual([['b3', 1003]]);
  store.close();
});

test('urgent records go first, and the others keep a share (creationEvery) while both wait', () => {
  const store = openStore(':memory:', { mode: 'profile-sync', sources });
  for (let i = 1; i <= 4; i++) stage(store, i);
  for (let i = 5; i <= 10; i++) stage(store, i, true);
  // limit 6, creationEvery 2: at least ceil(6 / 3) = 2 of the others.
  expect(store.inbound.next(6, order).map((r) => r.bulkId)).toEqual(['b5', 'b6', 'b7', 'b8', 'b1', 'b2']);
  expect(store.inbound.next(6, { order: 'fifo', creationEvery: 2 }).map((r) => r.bulkId)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
  store.close();
});

test('the daily quota counts calls of the last 24 hours', () => {
  const store = openStore(':memory:', { mode: 'profile-sync', sources });
  const day = 86_400_000;
  store.inbound.recordCall(1000);
  store.inbound.recordCall(2000);
  store.inbound.recordCall(2000 + day);
  expect(store.inbound.callsSince(1500)).toBe(2);
  expect(store.inbound.callsSince(2000)).toBe(1);
  store.close();
});

test('the head of the queue: how many wait (up to the limit), whether one is urgent, the oldest queue time; sent records do not count', () => {
  const store = openStore(':memory:', { mode: 'profile-sync', sources });
  expect(store.inbound.queuedHead(50)).toEqual({ count: 0, urgent: false, oldestQueuedAt: null });
  for (let n = 1; n <= 3; n++) stage(store, n);
  store.inbound.markSent([store.inbound.next(1, order)[0].seq], 5000);
  expect(store.inbound.queuedHead(50)).toEqual({ count: 2, urgent: false, oldestQueuedAt: 1002 });
  stage(store, 4, true);
  expect(store.inbound.queuedHead(50)).toEqual({ count: 3, urgent: true, oldestQueuedAt: 1002 });
  for (let n = 5; n <= 60; n++) stage(store, n);
  expect(store.inbound.queuedHead(50)).toMatchObject({ count: 50, urgent: true });
  store.close();
});
