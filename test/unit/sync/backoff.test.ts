import { backoffDelay, retryDelay } from '../../../src/sync/backoff';

describe('backoff', () => {
  it('doubles the ceiling per attempt with full jitter', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, { baseMs: 1000, random: () => 0.999999 }))).toEqual([999, 1999, 3999, 7999]);
    expect(backoffDelay(3, { baseMs: 1000, random: () => 0.5 })).toBe(4000);
  });

  it('is capped', () => {
    expect(backoffDelay(40, { baseMs: 1000, capMs: 60_000, random: () => 0.999999 })).toBe(59_999);
  });

  it('never returns zero', () => {
    expect(backoffDelay(0, { baseMs: 1000, random: () => 0 })).toBe(100);
  });

  it("prefers Graph's Retry-After", () => {
    expect(retryDelay(5, 3000, { random: () => 0.9 })).toBe(3000);
    expect(retryDelay(0, undefined, { baseMs: 1000, random: () => 0.5 })).toBe(500);
  });
});
