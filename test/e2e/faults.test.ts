// Faults (SPEC section 7): with 20% of Graph requests answered 5xx or 429 and a 10-second outage,
// every change accepted meanwhile is applied once the faults stop, and applied once only.
import { boss } from './fixtures';
import { manualClock } from '../../src/sync/clock';
import { driveClock, E3, startHarness, type Harness } from './harness';
import { ENTERPRISE } from './ingress';

jest.setTimeout(180_000);

let h: Harness;
let stopClock: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopClock?.();
  await h?.close();
});

const USERS = 300;
const upn = (i: number) => `f${i}@example.com`;

/** Polls until `done` holds (every 20 ms, at most `ms`); the test's assertions say what went wrong. */
async function until(done: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

it('applies every accepted change after 20% 5xx/429 and a 10-second outage', async () => {
  // The outage is ten seconds of the simulator's clock, which stands still until the test moves it past
  // the outage once the engine has met it, instead of waiting ten seconds of wall time.
  let simTime = Date.now();
  const simNow = () => simTime;
  // The engine's back-offs and Retry-After pauses run on a manual clock, moved on a second at a time
  // whenever the engine waits (driveClock), so a second of Retry-After costs no wall time. (After each 429
  // the write budget refills from empty at half its rate: minutes of the engine's time, which steps of
  // 100 ms took thousands of wall-clock ticks to pass.)
  const clock = manualClock(Date.now());
  h = await startHarness({
    mode: 'user-sync',
    seed: { skus: [{ skuId: E3, skuPartNumber: 'ENTERPRISEPACK', seats: USERS }] },
    overrides: { 'graph.allowTenantDirSync': true },
    engine: { retry: { baseMs: 100, capMs: 2000 }, idleMs: 50, clock },
    simulatorNow: simNow,
  });
  const scim = h.scim;
  // Preflight reads the tenant before the faults begin: a 5xx on its GET /devices blocks the engine
  // for 30 s (see the test.failing case in preflight.test.ts), which would leave this test with no
  // Graph traffic to fault. Every write, lookup and retry below still runs under the faults.
  expect(await h.engine.preflight()).toMatchObject({ ok: true, blocked: [] });
  const start = simNow();
  h.sim.faults.set({ errorRates: { '500': 0.05, '502': 0.05, '429': 0.1 }, outages: [{ start, end: start + 10_000 }] });
  const refusedInOutage = () => h.sim.requests.list().filter((e) => e.status === 503).length;
  h.engine.start();
  stopClock = driveClock(clock, 1000);
  for (let i = 0; i < USERS; i++) {
    await scim.createUser(`u${i}`, {
      ...boss,
      userName: upn(i),
      displayName: `F ${i}`,
      password: undefined,
      schemas: [...boss.schemas, ENTERPRISE],
      entitlements: [{ value: 'ENTERPRISEPACK' }],
      ...(i > 0 ? { [ENTERPRISE]: { manager: { value: `u${Math.floor(i / 4)}` } } } : {}),
    });
  }
  // Every change was accepted during the outage; the engine has met it (and backs off) before it ends.
  await until(() => refusedInOutage() >= 20);
  expect(refusedInOutage()).toBeGreaterThanOrEqual(20);
  expect(h.engine.status().counts.synced).toBe(0);
  simTime += 10_000;
  // The error rates go on after the outage until the engine has written through them for a while.
  await until(() => h.sim.faults.injected - refusedInOutage() > 50 && h.engine.status().counts.synced > 0);
  const injected = h.sim.faults.injected;
  h.sim.faults.clear();
  await until(() => h.engine.status().counts.synced >= USERS);

  expect(injected).toBeGreaterThan(50);
  expect(h.engine.status().counts).toEqual({ pending: 0, synced: USERS, error: 0, blocked: 0 });
  const byUpn = new Map(h.sim.state.snapshot().users.map((u) => [String(u.userPrincipalName), u]));
  expect(byUpn.size).toBe(USERS);
  for (let i = 0; i < USERS; i++) {
    const u = byUpn.get(upn(i))!;
    expect([u.assignedLicenses, u.manager]).toEqual([[{ disabledPlans: [], skuId: E3 }], i > 0 ? byUpn.get(upn(Math.floor(i / 4)))!.id : null]);
  }
  const log = h.sim.requests.list();
  expect(log.filter((e) => e.method === 'POST' && e.url === '/users' && e.status === 201)).toHaveLength(USERS);
  expect(log.filter((e) => e.url.endsWith('/assignLicense') && e.status === 200)).toHaveLength(USERS);
});
