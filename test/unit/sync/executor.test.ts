import { createLogger } from '../../../src/log';
import { manualClock } from '../../../src/sync/clock';
import { createExecutor } from '../../../src/sync/executor';
import type { SyncGraph } from '../../../src/sync/graph-port';
import type { GraphOp, OpResponse } from '../../../src/sync/ops';
import { createThrottle } from '../../../src/sync/throttle';

const write = (id: string, extra: Partial<GraphOp> = {}): GraphOp => ({ id, method: 'PATCH', url: `/users/${id}`, body: { a: 1 }, write: true, ...extra });

function fakeGraph(answer: (ops: GraphOp[]) => OpResponse[] | Error): SyncGraph & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    async send(op) {
      batches.push([op.id ?? '']);
      const r = answer([op as GraphOp]);
      if (r instanceof Error) throw r;
      return r[0];
    },
    async batch(ops) {
      batches.push(ops.map((o) => o.id));
      const r = answer(ops);
      if (r instanceof Error) throw r;
      return r;
    },
    tokenRoles: async () => null,
  };
}

describe('executor', () => {
  it('sorts per-item answers and pauses the whole budget for a per-item Retry-After', async () => {
    const clock = manualClock(0);
    const throttle = createThrottle({ writes: 3000, perSeconds: 150 }, clock);
    const graph = fakeGraph((ops) =>
      ops.map((o) =>
        o.id === 'b'
          ? { id: o.id, status: 429, headers: { 'retry-after': '5' }, body: { error: { code: 'TooManyRequests', message: 'slow' } } }
          : o.id === 'c'
            ? { id: o.id, status: 400, body: { error: { code: 'Request_BadRequest', message: 'bad value' } } }
            : { id: o.id, status: 204 },
      ),
    );
    const exec = createExecutor({ graph, throttle, logger: createLogger('silent'), now: () => clock.now() });
    const out = await exec.run([write('a'), write('b'), write('c')]);
    expect(Object.fromEntries(out)).toEqual({
      a: { kind: 'ok', status: 204, body: undefined },
      b: { kind: 'retry', status: 429, message: 'TooManyRequests: slow', retryAfterMs: 5000, throttled: true },
      c: { kind: 'failed', status: 400, code: 'Request_BadRequest', message: 'bad value' },
    });
    expect([throttle.pausedUntil(), exec.stats()]).toEqual([5000, { requests: 3, writes: 3, throttled: 1, throttledMs: 5000, batches: 1 }]);
  });

  it('turns a network failure into a retry for every op of the batch', async () => {
    const clock = manualClock(0);
    const exec = createExecutor({
      graph: fakeGraph(() => Object.assign(new Error('Graph unreachable (ECONNRESET)'), { status: 503, retryable: true })),
      throttle: createThrottle({ writes: 3000, perSeconds: 150 }, clock),
      logger: createLogger('silent'),
    });
    const out = await exec.run([write('a'), write('b')]);
    expect([...out.values()]).toEqual([
      { kind: 'retry', status: 503, message: 'Graph unreachable (ECONNRESET)', retryAfterMs: undefined, throttled: false },
      { kind: 'retry', status: 503, message: 'Graph unreachable (ECONNRESET)', retryAfterMs: undefined, throttled: false },
    ]);
  });

  it('spends a write per $batch item before sending, and nothing for reads', async () => {
    const clock = manualClock(0);
    const throttle = createThrottle({ writes: 3000, perSeconds: 150 }, clock);
    const graph = fakeGraph((ops) => ops.map((o) => ({ id: o.id, status: 200, body: {} })));
    const exec = createExecutor({ graph, throttle, logger: createLogger('silent') });
    const reads = Array.from({ length: 25 }, (_, i): GraphOp => ({ id: `r${i}`, method: 'GET', url: '/users', write: false }));
    await exec.run([...reads, write('w1'), write('w2')]);
    expect([throttle.spent(), graph.batches.map((b) => b.length)]).toEqual([2, [20, 7]]);
  });

  it('sends urgent work through the urgent view first when the budget is spent, without running the preemption hook for it', async () => {
    const clock = manualClock(0);
    // 2 writes per second: the first two go at once, then one every 500 ms.
    const throttle = createThrottle({ writes: 2, perSeconds: 1 }, clock);
    const graph = fakeGraph((ops) => ops.map((o) => ({ id: o.id, status: 204 })));
    const exec = createExecutor({ graph, throttle, logger: createLogger('silent'), concurrency: 1, now: () => clock.now() });
    const hooked: string[] = [];
    exec.preempt(async () => void hooked.push(`hook before batch ${graph.batches.length + 1}`));
    await exec.run([write('load-1', { url: '/users/load-1' }), write('load-2', { url: '/users/load-2' })]);
    const load = exec.run([write('load-3')]);
    const urgent = exec.urgent.run([write('deactivate')]);
    await clock.advance(1000);
    await Promise.all([load, urgent]);
    expect(graph.batches).toEqual([['load-1', 'load-2'], ['deactivate'], ['load-3']]);
    expect(hooked).toEqual(['hook before batch 1', 'hook before batch 2']);
  });
});
