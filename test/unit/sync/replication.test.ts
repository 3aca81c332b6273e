// Replication delay: which refusals count as a replica behind, for how long after a create, and
// how a 404 is told apart from a deletion outside the bridge (GET by id).
import type { EngineContext } from '../../../src/sync/context';
import type { GraphOp, OpOutcome } from '../../../src/sync/ops';
import { REPLICATION_WINDOW_MS, noteLinked, recentlyLinked, retryReplicationMisses, softenReferenceMissing } from '../../../src/sync/replication';

const NOT_FOUND = (id: string): OpOutcome => ({
  kind: 'failed',
  status: 404,
  code: 'Request_ResourceNotFound',
  message: `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
});
const MISSING: OpOutcome = {
  kind: 'failed',
  status: 400,
  code: 'Request_BadRequest',
  message: 'The source resource object or one of the objects being referenced do not exist.',
};
const ALREADY: OpOutcome = {
  kind: 'failed',
  status: 400,
  code: 'Request_BadRequest',
  message: "One or more added object references already exist for the following modified properties: 'members'.",
};

function fakeContext(answers: Record<string, OpOutcome> = {}) {
  let now = 1_000_000;
  const linked = new Map<string, number>();
  const sent: GraphOp[][] = [];
  const ctx = {
    clock: { now: () => now, sleep: async () => undefined },
    logger: { info: () => undefined },
    queries: {
      recordLinked: (id: string, at: number, pruneBefore: number) => {
        for (const [k, v] of linked) if (v < pruneBefore) linked.delete(k);
        linked.set(id.toLowerCase(), at);
      },
      linkedAt: (id: string) => linked.get(id.toLowerCase()) ?? null,
    },
    exec: {
      run: async (ops: GraphOp[]) => {
        sent.push(ops);
        return new Map(ops.map((op) => [op.id, answers[op.url] ?? { kind: 'ok', status: 200, body: {} }]));
      },
    },
  } as unknown as EngineContext;
  return { ctx, sent, advance: (ms: number) => void (now += ms) };
}

it('an object is recent for REPLICATION_WINDOW_MS after its create or match, by any id case', () => {
  const { ctx, advance } = fakeContext();
  noteLinked(ctx, 'AAAA-1');
  expect(recentlyLinked(ctx, [null, 'aaaa-1'])).toBe(true);
  expect(recentlyLinked(ctx, ['bbbb-2'])).toBe(false);
  advance(REPLICATION_WINDOW_MS - 1);
  expect(recentlyLinked(ctx, ['aaaa-1'])).toBe(true);
  advance(1);
  expect(recentlyLinked(ctx, ['aaaa-1'])).toBe(false);
});

it('a member add refused with the documented 400 is a retry only while the group or a member is recent', () => {
  const { ctx, advance } = fakeContext();
  noteLinked(ctx, 'group-1');
  expect(softenReferenceMissing(ctx, MISSING, ['group-1', 'user-9'])).toEqual({
    kind: 'retry',
    status: 400,
    message: `Request_BadRequest: ${(MISSING as { message: string }).message} (replication delay after create; retrying)`,
    throttled: false,
  });
  expect(softenReferenceMissing(ctx, ALREADY, ['group-1'])).toBe(ALREADY);
  expect(softenReferenceMissing(ctx, NOT_FOUND('user-9'), ['group-1'])).toEqual(NOT_FOUND('user-9'));
  advance(REPLICATION_WINDOW_MS);
  expect(softenReferenceMissing(ctx, MISSING, ['group-1', 'user-9'])).toBe(MISSING);
});

it('a 404 on a write naming a recent object is retried when GET by id still finds it, and stands when it does not', async () => {
  const { ctx, sent } = fakeContext({ '/users/gone-2?$select=id': NOT_FOUND('gone-2') });
  noteLinked(ctx, 'new-1');
  noteLinked(ctx, 'gone-2');
  const out = new Map<string, OpOutcome>([
    ['0l', NOT_FOUND('new-1')],
    ['1p', NOT_FOUND('gone-2')],
    ['2p', NOT_FOUND('old-3')],
    ['3p', { kind: 'ok', status: 204 }],
  ]);
  await retryReplicationMisses(
    ctx,
    [
      { opId: '0l', refs: [{ set: 'users', id: 'new-1' }] },
      { opId: '1p', refs: [{ set: 'users', id: 'gone-2' }] },
      { opId: '2p', refs: [{ set: 'users', id: 'old-3' }] },
      { opId: '3p', refs: [{ set: 'users', id: 'new-1' }] },
    ],
    out,
  );
  expect(sent).toEqual([
    [
      { id: '0x', method: 'GET', url: '/users/new-1?$select=id', write: false },
      { id: '1x', method: 'GET', url: '/users/gone-2?$select=id', write: false },
    ],
  ]);
  expect(out.get('0l')).toMatchObject({ kind: 'retry', status: 404 });
  expect(out.get('1p')).toEqual(NOT_FOUND('gone-2'));
  expect(out.get('2p')).toEqual(NOT_FOUND('old-3'));
  expect(out.get('3p')).toEqual({ kind: 'ok', status: 204 });
});

it('sends no probe when no 404 names a recent object', async () => {
  const { ctx, sent } = fakeContext();
  const out = new Map<string, OpOutcome>([['0p', NOT_FOUND('old-3')]]);
  await retryReplicationMisses(ctx, [{ opId: '0p', refs: [{ set: 'users', id: 'old-3' }] }], out);
  expect([sent, out.get('0p')]).toEqual([[], NOT_FOUND('old-3')]);
});
