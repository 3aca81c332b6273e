import { manualClock } from '../../../src/sync/clock';
import { createThrottle, createWindowLimit } from '../../../src/sync/throttle';

describe('write budget throttle', () => {
  it('spends up to the budget at once, then refills at writes per perSeconds', async () => {
    const clock = manualClock(0);
    const t = createThrottle({ writes: 30, perSeconds: 150 }, clock);
    for (let i = 0; i < 3; i++) await t.acquire(10);
    expect(t.available()).toBe(0);
    let done = false;
    // 5 tokens at 30 per 150 s take 25 s.
    const next = t.acquire(5).then(() => (done = true));
    await clock.advance(24_999);
    expect(done).toBe(false);
    await clock.advance(1);
    await next;
    expect([done, clock.now(), t.spent()]).toEqual([true, 25_000, 35]);
  });

  it('refills a little slower than the budget when given a margin', async () => {
    const clock = manualClock(0);
    const t = createThrottle({ writes: 100, perSeconds: 100 }, clock, { margin: 0.5 });
    await t.acquire(100);
    await clock.advance(10_000);
    expect(t.available()).toBe(5);
  });

  it('never spends more than the budget allows over any interval, whatever the request sizes', async () => {
    const clock = manualClock(0);
    const t = createThrottle({ writes: 50, perSeconds: 10 }, clock);
    const log: number[] = [];
    const sizes = Array.from({ length: 60 }, (_, i) => 1 + ((i * 7) % 20));
    const all = (async () => {
      for (const n of sizes) {
        await t.acquire(n);
        for (let i = 0; i < n; i++) log.push(clock.now());
      }
    })();
    for (let i = 0; i < 800; i++) await clock.advance(250);
    await all;
    // Token bucket: over any interval of d ms at most capacity + d * rate writes.
    let worst = -Infinity;
    for (let i = 0; i < log.length; i++) for (let j = i; j < log.length; j++) worst = Math.max(worst, j - i + 1 - (50 + ((log[j] - log[i]) * 50) / 10_000));
    expect(worst).toBeLessThanOrEqual(0);
    expect(log.length).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  it('pauses every acquisition for the Retry-After Graph named', async () => {
    const clock = manualClock(1000);
    const t = createThrottle({ writes: 3000, perSeconds: 150 }, clock);
    t.pause(7000);
    expect(t.available()).toBe(0);
    let at = -1;
    const p = t.acquire(1).then(() => (at = clock.now()));
    await clock.advance(6999);
    expect(at).toBe(-1);
    await clock.advance(1);
    await p;
    expect(at).toBe(8000);
  });

  it('after a 429 starts afresh from an empty bucket at half the rate, halved once per overrun, and grows back while Graph is quiet', async () => {
    const clock = manualClock(0);
    // 100 writes per 100 s: one per second.
    const t = createThrottle({ writes: 100, perSeconds: 100 }, clock);
    await t.acquire(10);
    // Three 429s of one overrun (parallel items): one pause, one halving.
    t.pause(4000);
    t.pause(4000);
    t.pause(3000);
    await clock.advance(4000);
    expect(t.available()).toBe(2);
    // At half a write per second from here: 2 more after 4 s.
    await clock.advance(4000);
    expect(t.available()).toBe(4);
    // A second overrun after the first pause ended: a quarter of the rate.
    t.pause(0);
    await clock.advance(8000);
    expect(t.available()).toBe(2);
    // Each 15 s without a 429 adds a tenth of the configured rate back: 0.35 per second after the first 15 s.
    await clock.advance(7000);
    expect(t.available()).toBe(3);
    await clock.advance(20_000);
    expect(t.available()).toBe(10);
  });

  it('serves waiters first come first served, so a batch of 20 is not starved by single writes', async () => {
    const clock = manualClock(0);
    const t = createThrottle({ writes: 20, perSeconds: 1 }, clock);
    await t.acquire(19);
    const order: string[] = [];
    const big = t.acquire(20).then(() => order.push('batch'));
    const small = t.acquire(1).then(() => order.push('single'));
    await clock.advance(950);
    expect(order).toEqual(['batch']);
    await clock.advance(50);
    await Promise.all([big, small]);
    expect(order).toEqual(['batch', 'single']);
  });

  it('gives an urgent write the next free token, ahead of a batch already waiting, which still goes next', async () => {
    const clock = manualClock(0);
    // 20 writes per second: one token every 50 ms.
    const t = createThrottle({ writes: 20, perSeconds: 1 }, clock);
    await t.acquire(20);
    const order: string[] = [];
    const big = t.acquire(20).then(() => order.push(`batch at ${clock.now()}`));
    await clock.advance(10);
    const urgent = t.acquire(1, true).then(() => order.push(`urgent at ${clock.now()}`));
    await clock.advance(990);
    await urgent;
    // The urgent write waited for one token (50 ms), not for the batch's twenty.
    expect(order).toEqual(['urgent at 50']);
    await clock.advance(50);
    await big;
    expect(order).toEqual(['urgent at 50', 'batch at 1050']);
  });

  it('serves a waiting batch after four urgent grants in a row, so a stream of urgent writes cannot starve it', async () => {
    const clock = manualClock(0);
    const t = createThrottle({ writes: 20, perSeconds: 1 }, clock);
    await t.acquire(20);
    const order: string[] = [];
    const big = t.acquire(20).then(() => order.push('batch'));
    const urgent = Array.from({ length: 6 }, (_, i) => t.acquire(1, true).then(() => order.push(`urgent ${i + 1}`)));
    await clock.advance(3000);
    await Promise.all([big, ...urgent]);
    expect(order).toEqual(['urgent 1', 'urgent 2', 'urgent 3', 'urgent 4', 'batch', 'urgent 5', 'urgent 6']);
  });
});

describe('window limit (N requests per S seconds, counted over a sliding window)', () => {
  it('grants 40 at once, then each next one as the oldest leaves the 5-second window: never 41 in any 5 s', async () => {
    const clock = manualClock(0);
    const limit = createWindowLimit({ requests: 40, perSeconds: 5 }, clock);
    const grants: number[] = [];
    const ask = (n: number) => Array.from({ length: n }, () => limit.acquire().then(() => grants.push(clock.now())));
    // 20 at 0 ms, 25 more a second later: a token bucket of the same size would let 8 more through every second.
    const first = ask(20);
    await clock.advance(1000);
    const all = Promise.all([...first, ...ask(25)]);
    for (let t = 0; t < 12; t++) await clock.advance(1000);
    await all;
    expect(grants).toEqual([...Array(20).fill(0), ...Array(20).fill(1000), 5000, 5000, 5000, 5000, 5000]);
    // The most in any window of 5 s.
    expect(Math.max(...grants.map((t) => grants.filter((u) => u >= t && u < t + 5000).length))).toBe(40);
  });

  it('tryAcquire counts a request only when one fits now and nobody waits: it never waits itself', async () => {
    const clock = manualClock(0);
    const limit = createWindowLimit({ requests: 2, perSeconds: 10 }, clock);
    expect([limit.tryAcquire(), limit.tryAcquire(), limit.tryAcquire()]).toEqual([true, true, false]);
    await clock.advance(10_000);
    // A caller of acquire() goes first: the free slot is not taken from it.
    const waiting = limit.acquire();
    expect(limit.tryAcquire()).toBe(false);
    await waiting;
    expect(limit.tryAcquire()).toBe(true);
    // Nor while paused for a Retry-After.
    await clock.advance(10_000);
    limit.pause(3000);
    expect(limit.tryAcquire()).toBe(false);
    await clock.advance(3000);
    expect(limit.tryAcquire()).toBe(true);
  });

  it('grants nothing while paused for a Retry-After, then counts the window as before', async () => {
    const clock = manualClock(1000);
    const limit = createWindowLimit({ requests: 5, perSeconds: 10 }, clock);
    limit.pause(3000);
    let at = -1;
    const p = limit.acquire().then(() => (at = clock.now()));
    await clock.advance(2999);
    expect(at).toBe(-1);
    await clock.advance(1);
    await p;
    expect(at).toBe(4000);
  });
});
