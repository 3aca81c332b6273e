import { RequestLog } from '../../src/simulator/request-log';

test('the request log keeps the most recent entries within its limit, trimming in chunks', () => {
  const log = new RequestLog(10);
  for (let i = 1; i <= 25; i++) log.add({ method: 'PATCH', url: `/users/u${i}`, status: 204, requestId: `r${i}` });
  const kept = log.list().map((e) => e.seq);
  expect(kept.length).toBeGreaterThanOrEqual(10);
  expect(kept.length).toBeLessThanOrEqual(11);
  expect(kept[kept.length - 1]).toBe(25);
  expect(kept).toEqual([...kept].sort((a, b) => a - b));
});
