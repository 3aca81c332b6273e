// The engine's clocks: a wait the engine drops (woken early, or stopped) keeps no timer alive, so a
// stopped engine with a long idle interval does not hold its process open.
import { manualClock, scaledClock, systemClock } from '../../../src/sync/clock';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test.each([
  ['systemClock', systemClock],
  ['scaledClock', scaledClock(10)],
])('%s: an aborted sleep clears its timer', (_name, clock) => {
  const before = timers();
  const wait = new AbortController();
  void clock.sleep(600_000, wait.signal);
  expect(timers()).toBe(before + 1);
  wait.abort();
  expect(timers()).toBe(before);
});

test('manualClock: an aborted sleep is no longer pending and never resolves', async () => {
  const clock = manualClock();
  const wait = new AbortController();
  let resolved = false;
  void clock.sleep(10, wait.signal).then(() => (resolved = true));
  expect(clock.pending()).toBe(1);
  wait.abort();
  expect(clock.pending()).toBe(0);
  await clock.advance(20);
  expect(resolved).toBe(false);
});
