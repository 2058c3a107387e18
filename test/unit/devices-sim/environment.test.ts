import { createEnvironmentProfile, dailyCycle } from '../../../devices-sim/profiles/environment.js';
import { createRandom, deriveSeed } from '../../../devices-sim/random.js';

const HOUR = 60 * 60 * 1000;
const MIDNIGHT_UTC = Date.UTC(2026, 0, 15);

function fleetProfiles(count: number, seed = 7) {
  return Array.from({ length: count }, (_, i) => createEnvironmentProfile(createRandom(deriveSeed(seed, i + 1))));
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('environment profile', () => {
  it('keeps temperature, humidity and battery in plausible ranges over two days', () => {
    const seen = { temperature: [] as number[], humidity: [] as number[], battery: [] as number[] };
    for (const profile of fleetProfiles(50)) {
      for (let t = 0; t < 48 * HOUR; t += 5 * 60 * 1000) {
        const r = profile.next(MIDNIGHT_UTC + t);
        seen.temperature.push(r.temperature);
        seen.humidity.push(r.humidity);
        seen.battery.push(r.battery);
      }
    }
    const range = (values: number[]) => [Math.min(...values), Math.max(...values)];
    const [tMin, tMax] = range(seen.temperature);
    expect(tMin).toBeGreaterThan(8);
    expect(tMax).toBeLessThan(35);
    const [hMin, hMax] = range(seen.humidity);
    expect(hMin).toBeGreaterThanOrEqual(0);
    expect(hMax).toBeLessThanOrEqual(100);
    const [bMin, bMax] = range(seen.battery);
    expect(bMin).toBeGreaterThanOrEqual(0);
    expect(bMax).toBeLessThanOrEqual(100);
  });

  it('is warmer and drier in the afternoon than at night (the daily cycle follows the clock)', () => {
    const afternoon: { t: number[]; h: number[] } = { t: [], h: [] };
    const night: { t: number[]; h: number[] } = { t: [], h: [] };
    for (const profile of fleetProfiles(40)) {
      // Same device sampled through one day; readings around 15:00 and 03:00 UTC.
      for (let t = 0; t < 24 * HOUR; t += 10 * 60 * 1000) {
        const hour = t / HOUR;
        const r = profile.next(MIDNIGHT_UTC + t);
        if (hour >= 14 && hour < 16) afternoon.t.push(r.temperature), afternoon.h.push(r.humidity);
        if (hour >= 2 && hour < 4) night.t.push(r.temperature), night.h.push(r.humidity);
      }
    }
    expect(mean(afternoon.t) - mean(night.t)).toBeGreaterThan(4);
    expect(mean(night.h) - mean(afternoon.h)).toBeGreaterThan(10);
  });

  it('peaks at 15:00 UTC and bottoms out at 03:00 UTC', () => {
    expect(dailyCycle(MIDNIGHT_UTC + 15 * HOUR)).toBeCloseTo(1, 10);
    expect(dailyCycle(MIDNIGHT_UTC + 3 * HOUR)).toBeCloseTo(-1, 10);
    expect(dailyCycle(MIDNIGHT_UTC + 9 * HOUR)).toBeCloseTo(0, 10);
  });

  it('drains the battery slowly over time', () => {
    const [profile] = fleetProfiles(1);
    const first = profile.next(MIDNIGHT_UTC).battery;
    let last = first;
    for (let t = HOUR; t <= 24 * HOUR; t += HOUR) last = profile.next(MIDNIGHT_UTC + t).battery;
    expect(first - last).toBeGreaterThan(10);
    expect(first - last).toBeLessThan(14);
  });

  it('produces the same readings for the same seed and different ones for another seed', () => {
    const sample = (seed: number) => fleetProfiles(3, seed).map((p) => p.next(MIDNIGHT_UTC));
    expect(sample(42)).toEqual(sample(42));
    expect(sample(42)).not.toEqual(sample(43));
  });

  it('gives devices of one fleet different baselines', () => {
    const temperatures = fleetProfiles(20).map((p) => p.next(MIDNIGHT_UTC).temperature);
    expect(new Set(temperatures).size).toBeGreaterThan(15);
  });
});
