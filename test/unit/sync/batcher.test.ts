import { packBatches } from '../../../src/sync/batcher';
import { retryAfterMs } from '../../../src/graph/errors';
import { classifyResponse, type GraphOp } from '../../../src/sync/ops';

const op = (id: string, dependsOn?: string[]): GraphOp => ({ id, method: 'POST', url: `/x/${id}`, body: {}, write: true, ...(dependsOn ? { dependsOn } : {}) });

function userOps(n: number): GraphOp[] {
  return [op(`c${n}`), op(`l${n}`, [`c${n}`]), op(`m${n}`, [`c${n}`])];
}

describe('batcher', () => {
  it('packs independent ops 20 to a batch', () => {
    const ops = Array.from({ length: 45 }, (_, i) => op(`p${i}`));
    const { batches, deferred } = packBatches(ops);
    expect(deferred).toEqual([]);
    expect(batches.map((b) => b.length)).toEqual([20, 20, 5]);
    expect(batches.flat().map((o) => o.id)).toEqual(ops.map((o) => o.id));
  });

  it('gives each dependency chain a batch of its own (Graph: fully sequential or fully parallel)', () => {
    const ops = [op('p1'), ...userOps(1), op('p2'), ...userOps(2)];
    const { batches } = packBatches(ops);
    expect(batches.map((b) => b.map((o) => [o.id, o.dependsOn ?? null]))).toEqual([
      [
        ['c1', null],
        ['l1', ['c1']],
        ['m1', ['c1']],
      ],
      [
        ['c2', null],
        ['l2', ['c2']],
        ['m2', ['c2']],
      ],
      [
        ['p1', null],
        ['p2', null],
      ],
    ]);
  });

  it('defers what does not fit a dependency group and everything that depends on it', () => {
    const ops = [op('c'), ...Array.from({ length: 21 }, (_, i) => op(`g${i}`, ['c'])), op('x', ['g20'])];
    const { batches, deferred } = packBatches(ops);
    expect(batches.map((b) => b.length)).toEqual([20]);
    expect(deferred.map((o) => o.id)).toEqual(['g19', 'g20', 'x']);
  });

  it('drops dependsOn pointing outside the batch', () => {
    const { batches } = packBatches([op('a', ['gone'])]);
    expect(batches[0][0]).toEqual({ id: 'a', method: 'POST', url: '/x/a', body: {}, write: true });
  });
});

describe('response classification', () => {
  it("retries 429 with its Retry-After, 5xx and 424; fails other 4xx with Graph's message", () => {
    expect(
      classifyResponse({ id: '1', status: 429, headers: { 'Retry-After': '7' }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } }),
    ).toEqual({
      kind: 'retry',
      status: 429,
      message: 'TooManyRequests: slow down',
      retryAfterMs: 7000,
      throttled: true,
    });
    expect(classifyResponse({ id: '1', status: 424, body: { error: { code: 'FailedDependency', message: 'dep' } } })).toMatchObject({
      kind: 'retry',
      throttled: false,
    });
    expect(classifyResponse({ id: '1', status: 503 })).toMatchObject({ kind: 'retry', status: 503 });
    expect(classifyResponse({ id: '1', status: 400, body: { error: { code: 'Request_BadRequest', message: 'Invalid value' } } })).toEqual({
      kind: 'failed',
      status: 400,
      code: 'Request_BadRequest',
      message: 'Invalid value',
    });
    expect(classifyResponse({ id: '1', status: 204 })).toEqual({ kind: 'ok', status: 204, body: undefined });
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'Retry-After': 'Thu, 01 Jan 2026 00:00:10 GMT' }, Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(retryAfterMs({})).toBeUndefined();
  });
});

describe('resource units', () => {
  it('costs 2 for listing users, 1 otherwise, one less with $select', () => {
    const { resourceUnitCost } = jest.requireActual('../../../src/sync/ops') as typeof import('../../../src/sync/ops');
    expect([
      resourceUnitCost({ method: 'GET', url: '/users?$filter=x' }),
      resourceUnitCost({ method: 'GET', url: "/users?$filter=userPrincipalName%20eq%20'a'&$select=id" }),
      resourceUnitCost({ method: 'PATCH', url: '/users/1' }),
      resourceUnitCost({ method: 'GET', url: '/organization?$select=id' }),
    ]).toEqual([2, 1, 1, 1]);
  });
});
