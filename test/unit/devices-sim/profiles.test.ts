import { PROFILE_NAMES, PROFILES, profileNamed } from '../../../devices-sim/profiles/index.js';
import { angleDifference, createGpsProfile, distanceAndBearing, GPS_HOME, GPS_ROAM_KM, type GpsReading } from '../../../devices-sim/profiles/gps.js';
import { createPlugProfile, PlugRelay, type PlugReading } from '../../../devices-sim/profiles/plug.js';
import { metricValue, type DeviceProfile, type Reading } from '../../../devices-sim/profiles/profile.js';
import { createVibrationProfile, type VibrationReading } from '../../../devices-sim/profiles/vibration.js';
import { createRandom, deriveSeed } from '../../../devices-sim/random.js';
import { SimError } from '../../../devices-sim/errors.js';

const T0 = Date.UTC(2026, 0, 15, 9);
const HOUR = 60 * 60 * 1000;

/** `count` readings of one device of the named profile, `stepMs` apart. */
function readings<R extends Reading>(profile: DeviceProfile<R>, count: number, stepMs: number): R[] {
  return Array.from({ length: count }, (_, k) => profile.next(T0 + k * stepMs));
}
const device = (name: (typeof PROFILE_NAMES)[number], seed: number, index = 1) => PROFILES[name].create(createRandom(deriveSeed(seed, index)), `dev-${index}`);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const column = <R extends Reading>(rows: R[], key: keyof R) => rows.map((r) => r[key] as number);

describe('every profile', () => {
  it.each(PROFILE_NAMES)('%s gives the same readings for the same seed and other readings for another seed', (name) => {
    const run = (seed: number) => [1, 2, 3].flatMap((i) => readings(device(name, seed, i), 50, 1000));
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it.each(PROFILE_NAMES)('%s reports every declared metric as a number within its range and resolution', (name) => {
    const definition = PROFILES[name];
    const wrong: string[] = [];
    for (let i = 1; i <= 20; i++) {
      for (const reading of readings(device(name, 7, i), 200, 30_000)) {
        for (const [metric, spec] of Object.entries(definition.metrics)) {
          const value = reading[metric];
          // a number in range, already at the sensor's resolution
          const ok = typeof value === 'number' && value >= spec.range[0] && value <= spec.range[1] && metricValue(spec, value) === value;
          if (!ok) wrong.push(`${metric}=${String(value)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('are found by name, and an unknown name is refused with the choices', () => {
    expect(profileNamed('gps')).toBe(PROFILES.gps);
    expect(() => profileNamed('toaster')).toThrow(SimError);
    expect(() => profileNamed('toaster')).toThrow(/profile must be one of environment, vibration, gps, plug, got "toaster"/);
  });
});

describe('vibration profile', () => {
  const fleet = (count: number) => Array.from({ length: count }, (_, i) => createVibrationProfile(createRandom(deriveSeed(11, i + 1))));

  it('looks like a healthy machine at the start: ISO 10816 zone A/B velocity, nominal motor speed, warm bearing', () => {
    for (const profile of fleet(30)) {
      const rows = readings(profile, 60, 1000);
      expect(mean(column(rows, 'rmsVelocity'))).toBeGreaterThan(0.5);
      expect(mean(column(rows, 'rmsVelocity'))).toBeLessThan(4.5);
      expect(mean(column(rows, 'peakAcceleration'))).toBeGreaterThan(0.1);
      expect(mean(column(rows, 'peakAcceleration'))).toBeLessThan(2);
      const rpm = mean(column(rows, 'spindleRpm'));
      expect([1500, 1800, 3000, 3600].some((nominal) => Math.abs(rpm - nominal) < nominal * 0.05)).toBe(true);
      expect(mean(column(rows, 'bearingTemperature'))).toBeGreaterThan(30);
      expect(mean(column(rows, 'bearingTemperature'))).toBeLessThan(80);
    }
  });

  it('is noisy from reading to reading, but without jumps a detector would take for an anomaly', () => {
    const rows = readings(fleet(1)[0], 600, 1000);
    const velocity = column(rows, 'rmsVelocity');
    expect(new Set(velocity).size).toBeGreaterThan(20);
    const steps = (key: keyof VibrationReading) => rows.slice(1).map((r, k) => Math.abs(r[key] - rows[k][key]));
    expect(Math.max(...steps('rmsVelocity'))).toBeLessThan(1);
    expect(Math.max(...steps('bearingTemperature'))).toBeLessThan(2);
  });

  it('wears: velocity, acceleration and bearing temperature are higher a day later on every machine', () => {
    for (const profile of fleet(10)) {
      const rows: VibrationReading[] = [];
      for (let t = 0; t <= 25 * HOUR; t += 60_000) rows.push(profile.next(T0 + t));
      const firstHour = rows.slice(0, 60);
      const lastHour = rows.slice(-60);
      expect(mean(column(lastHour, 'rmsVelocity'))).toBeGreaterThan(1.15 * mean(column(firstHour, 'rmsVelocity')));
      expect(mean(column(lastHour, 'peakAcceleration'))).toBeGreaterThan(1.2 * mean(column(firstHour, 'peakAcceleration')));
      expect(mean(column(lastHour, 'bearingTemperature'))).toBeGreaterThan(mean(column(firstHour, 'bearingTemperature')));
    }
  });
});

describe('gps profile', () => {
  const tracker = (seed = 5, index = 1) => createGpsProfile(createRandom(deriveSeed(seed, index)));

  it('starts near the fleet home and stays in the city over a day of driving', () => {
    for (let i = 1; i <= 10; i++) {
      const profile = tracker(5, i);
      const rows: GpsReading[] = [];
      for (let t = 0; t <= 24 * HOUR; t += 15_000) rows.push(profile.next(T0 + t));
      expect(distanceAndBearing(GPS_HOME.lat, GPS_HOME.lon, rows[0].lat, rows[0].lon).meters).toBeLessThan(16_000);
      const farthest = Math.max(...rows.map((r) => distanceAndBearing(rows[0].lat, rows[0].lon, r.lat, r.lon).meters));
      expect(farthest).toBeGreaterThan(2000); // it really drives
      expect(farthest).toBeLessThan(3 * GPS_ROAM_KM * 1000);
    }
  });

  it('moves smoothly: each step matches the reported speed and heading, and the heading turns gradually', () => {
    const rows = readings(tracker(), 600, 1000);
    const wrong: string[] = [];
    for (let k = 1; k < rows.length; k++) {
      const step = distanceAndBearing(rows[k - 1].lat, rows[k - 1].lon, rows[k].lat, rows[k].lon);
      const meters = rows[k].speed / 3.6; // one second at the reported speed
      if (Math.abs(step.meters - meters) >= 0.5 + 0.05 * meters) wrong.push(`${k}: moved ${step.meters} m at ${rows[k].speed} km/h`);
      if (step.meters > 3 && Math.abs(angleDifference(step.bearing, rows[k].heading)) >= 5) wrong.push(`${k}: moved toward ${step.bearing}°, heading ${rows[k].heading}°`);
      if (Math.abs(angleDifference(rows[k - 1].heading, rows[k].heading)) >= 25) wrong.push(`${k}: turned from ${rows[k - 1].heading}° to ${rows[k].heading}°`);
      if (Math.abs(rows[k].speed - rows[k - 1].speed) >= 10) wrong.push(`${k}: speed from ${rows[k - 1].speed} to ${rows[k].speed}`);
    }
    expect(wrong).toEqual([]);
  });

  it('depends on elapsed time, not on how often it reports: the same hour at 1 Hz and at 0.1 Hz covers similar ground', () => {
    const distance = (stepMs: number) => {
      const profile = tracker(9);
      let total = 0;
      let previous = profile.next(T0);
      for (let t = stepMs; t <= HOUR; t += stepMs) {
        const r = profile.next(T0 + t);
        total += distanceAndBearing(previous.lat, previous.lon, r.lat, r.lon).meters;
        previous = r;
      }
      return total;
    };
    const fast = distance(1000);
    const slow = distance(10_000);
    expect(fast).toBeGreaterThan(10_000); // 25..60 km/h for an hour
    expect(slow / fast).toBeGreaterThan(0.6);
    expect(slow / fast).toBeLessThan(1.4);
  });

  it('drains its battery as it drives', () => {
    const profile = tracker();
    const first = profile.next(T0).battery;
    let last = first;
    for (let t = 60_000; t <= 6 * HOUR; t += 60_000) last = profile.next(T0 + t).battery;
    expect(first - last).toBeGreaterThan(3);
    expect(first - last).toBeLessThan(15);
  });
});

describe('plug profile', () => {
  const plug = (relay?: PlugRelay, seed = 3) => createPlugProfile(createRandom(deriveSeed(seed, 1)), relay);

  it('meters a steady appliance while on: 230 V mains, current = power / (voltage x power factor), state "on"', () => {
    const rows = readings(plug(), 300, 1000);
    const wrong = rows.filter((r) => {
      const powerFactor = r.power / (r.voltage * r.current);
      return !(r.state === 'on' && r.power > 10 && r.voltage > 215 && r.voltage < 245 && powerFactor > 0.88 && powerFactor < 1.02);
    });
    expect(wrong).toEqual([]);
  });

  it('accumulates energy while on by the power drawn, and not while off', () => {
    const relay = new PlugRelay();
    const profile = plug(relay);
    const on = readings(profile, 3601, 1000); // one hour on
    const gained = on.at(-1)!.energy - on[0].energy;
    expect(gained).toBeCloseTo(mean(column(on, 'power')) / 1000, 2); // kWh = mean W x 1 h / 1000
    relay.applyDelta({ state: { power: 'off' } });
    const off: PlugReading[] = [];
    for (let k = 1; k <= 600; k++) off.push(profile.next(T0 + 3600_000 + k * 1000));
    for (const r of off) {
      expect(r.state).toBe('off');
      expect(r.power).toBeLessThan(0.5);
      expect(r.current).toBe(0);
      expect(r.voltage).toBeGreaterThan(215); // the mains is still there
    }
    expect(off.at(-1)!.energy).toBe(off[0].energy);
    expect(off[0].energy).toBeGreaterThanOrEqual(on.at(-1)!.energy);
  });

  it('turns back on with a delta and resumes drawing its load', () => {
    const relay = new PlugRelay('off');
    const profile = plug(relay);
    expect(profile.next(T0).power).toBeLessThan(0.5);
    expect(relay.applyDelta({ state: { power: 'on' }, version: 4 })).toBe('applied');
    expect(profile.next(T0 + 1000)).toMatchObject({ state: 'on', power: expect.any(Number) });
    expect(profile.next(T0 + 2000).power).toBeGreaterThan(10);
  });
});
