import { burstLimit } from '../../../devices-sim/fleet.js';
import { createRandom } from '../../../devices-sim/random.js';
import { PublishSchedule, publishesDue } from '../../../devices-sim/schedule.js';

/** When each of the first `n` publishes becomes due, read back at 0.1 ms steps. */
function dueTimes(schedule: PublishSchedule, origin: number, n: number): number[] {
  const times: number[] = [];
  for (let now = origin; times.length < n; now += 0.1) {
    while (schedule.dueBy(origin, now) > times.length) times.push(now);
  }
  return times;
}

describe('fleet schedule', () => {
  it('owes nothing before the device has connected', () => {
    expect(publishesDue(Number.NaN, 10, 5000)).toBe(0);
    expect(publishesDue(1000, 10, 999)).toBe(0);
  });

  it('owes the first publish at connect time and one more every 1/rate seconds without drift', () => {
    expect(publishesDue(1000, 10, 1000)).toBe(1);
    expect(publishesDue(1000, 10, 1099)).toBe(1);
    expect(publishesDue(1000, 10, 1100)).toBe(2);
    // an hour later the count is exact, however irregular the ticks were
    expect(publishesDue(1000, 10, 1000 + 3_600_000)).toBe(36_001);
    expect(publishesDue(0, 0.5, 10_000)).toBe(6);
  });

  it('allows a catch-up burst of about two ticks worth of publishes, at least two', () => {
    expect(burstLimit(1, 10)).toBe(2);
    expect(burstLimit(1000, 10)).toBe(20);
    expect(burstLimit(250, 20)).toBe(10);
  });

  it('is exactly periodic without jitter', () => {
    const schedule = new PublishSchedule(10, 0, createRandom(1));
    for (const now of [999, 1000, 1099, 1100, 1000 + 3_600_000]) expect(schedule.dueBy(1000, now)).toBe(publishesDue(1000, 10, now));
  });

  it('with jitter spreads each interval over (1 ± J) / rate, keeps order, and never drifts from the rate', () => {
    const jitter = 0.5;
    const times = dueTimes(new PublishSchedule(10, jitter, createRandom(7)), 1000, 2000);
    const gaps = times.slice(1).map((t, k) => t - times[k]);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100 * (1 - jitter) - 0.2);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(100 * (1 + jitter) + 0.2);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(50); // not periodic any more
    // the k-th publish lies in [ideal, ideal + J / rate): 2,000 publishes later still on the rate
    times.forEach((t, k) => {
      expect(t).toBeGreaterThanOrEqual(1000 + 100 * k);
      expect(t).toBeLessThan(1000 + 100 * (k + jitter) + 0.2);
    });
  });

  it('with jitter owes nothing before the device connected, and repeats itself for the same seed', () => {
    const schedule = new PublishSchedule(10, 1, createRandom(3));
    expect(schedule.dueBy(Number.NaN, 5000)).toBe(0);
    expect(schedule.dueBy(1000, 999)).toBe(0);
    expect(dueTimes(new PublishSchedule(10, 1, createRandom(3)), 0, 50)).toEqual(dueTimes(new PublishSchedule(10, 1, createRandom(3)), 0, 50));
    expect(dueTimes(new PublishSchedule(10, 1, createRandom(4)), 0, 50)).not.toEqual(dueTimes(new PublishSchedule(10, 1, createRandom(3)), 0, 50));
  });
});
