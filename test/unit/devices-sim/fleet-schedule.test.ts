import { burstLimit, publishesDue } from '../../../devices-sim/fleet.js';

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
});
