import { backoffDelay, DEFAULT_BACKOFF } from '../../../dashboard/src/backoff.js';

const exact = { initialMs: 500, factor: 2, maxMs: 15_000, jitter: 0 };

describe('backoffDelay', () => {
  it('doubles from the initial delay on each failed attempt', () => {
    expect([0, 1, 2, 3, 4].map((a) => backoffDelay(a, exact))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('never exceeds the cap, however many attempts failed', () => {
    expect(backoffDelay(5, exact)).toBe(15_000);
    expect(backoffDelay(50, exact)).toBe(15_000);
    expect(backoffDelay(1e9, exact)).toBe(15_000);
  });

  it('takes jitter off the delay, within the configured fraction', () => {
    const policy = { ...exact, jitter: 0.2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(1000);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(900);
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(800);
  });

  it('treats a negative or fractional attempt as the nearest valid one', () => {
    expect(backoffDelay(-3, exact)).toBe(500);
    expect(backoffDelay(1.7, exact)).toBe(1000);
  });

  it('has a default policy that starts below a second and caps at a quarter minute', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBeLessThan(1000);
    expect(backoffDelay(100, DEFAULT_BACKOFF, () => 0)).toBe(15_000);
  });
});
