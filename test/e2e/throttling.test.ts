// Graph's own budget smaller than the one configured: the simulator answers 429 with Retry-After
// (per item inside $batch); the engine pauses for it and still applies every change exactly once.
import { boss } from './fixtures';
import { manualClock } from '../../src/sync/clock';
import { driveClock, E3, simulatorClock, startHarness, type Harness } from './harness';
import { ENTERPRISE } from './ingress';

jest.setTimeout(180_000);

let h: Harness;
let stopClock: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopClock?.();
  await h?.close();
});

const USERS = 1700;

it('honours per-item 429s and Retry-After, and applies everything once', async () => {
  // Graph's budgets and the engine's waits run on one manual clock, moved on whenever the engine waits:
  // the refill of Graph's budget (minutes of its time) takes no wall time.
  const clock = manualClock(Date.now());
  h = await startHarness({
    mode: 'profile-sync',
    throttling: true,
    sim: { clock: simulatorClock(clock) },
    seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: USERS }] },
    // Twice Microsoft's budget: the engine overspends and Graph pushes back.
    overrides: { 'graph.writeBudget': { writes: 6000, perSeconds: 150 } },
    engine: { idleMs: 20, clock },
  });
  // Every user accepted through SCIM before the engine starts.
  for (let i = 0; i < USERS; i++)
    await h.scim.createUser(`t${i}`, {
      ...boss,
      userName: `t${i}@example.com`,
      password: undefined,
      schemas: [...boss.schemas, ENTERPRISE],
      entitlements: [{ value: 'ENTERPRISEPACK' }],
    });
  // Spend Graph's write budget down to a few writes, so the engine's first $batch round overruns it
  // (Graph's budget stands still until the clock moves).
  const drain = { method: 'PATCH', path: '/users/drain', query: new URLSearchParams() } as unknown as Parameters<typeof h.sim.throttle.charge>[0];
  for (let i = 0; i < 2950; i++) h.sim.throttle.charge(drain);
  h.engine.start();
  // Steps of 5 s: a hundred writes of Graph's budget come back at each.
  stopClock = driveClock(clock, 5000);
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline && h.engine.status().counts.synced < USERS) await new Promise((r) => setTimeout(r, 20));
  expect(h.engine.status().counts).toEqual({ pending: 0, synced: USERS, error: 0, blocked: 0 });
  const log = h.sim.requests.list();
  expect(log.filter((e) => e.status === 429).length).toBeGreaterThan(0);
  // Graph counts refused requests too: after the first overrun the engine keeps near what Graph grants
  // (it used to resend whole rounds after each pause: a third of its requests were refused).
  expect(log.filter((e) => e.status === 429).length).toBeLessThan(log.length / 10);
  expect(h.engine.status().graph.throttled).toBeGreaterThan(0);
  expect(log.filter((e) => e.method === 'POST' && e.url === '/users' && e.status === 201)).toHaveLength(USERS);
  expect(log.filter((e) => e.url.endsWith('/assignLicense') && e.status === 200)).toHaveLength(USERS);
  expect(h.sim.state.snapshot().users.filter((u) => (u.assignedLicenses as unknown[]).length === 1)).toHaveLength(USERS);
});
