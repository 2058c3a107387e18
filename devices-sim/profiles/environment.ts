// The environmental profile: an indoor sensor reporting temperature, humidity and battery.
// Each device gets its own baseline from its seeded random source (reproducible per seed); the
// daily cycle comes from the wall clock passed in, so charts show day and night.

import { gaussian, type Random } from '../random.js';
import type { DeviceProfile, ProfileDefinition } from './profile.js';

// A type alias, not an interface: it must be assignable to the generic `Reading` record.
export type EnvironmentReading = {
  temperature: number;
  humidity: number;
  battery: number;
};

export interface EnvironmentProfile extends DeviceProfile<EnvironmentReading> {
  /** The reading at wall-clock time `nowMs` (epoch ms). Call with non-decreasing times. */
  next(nowMs: number): EnvironmentReading;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
/** Warmest hour of the day (UTC, so results do not depend on the host's time zone). */
const PEAK_HOUR_UTC = 15;
/** Battery drain in percent per hour: visible over a long run, negligible in a short test. */
const BATTERY_DRAIN_PER_HOUR = 0.5;
/** What a typical sensor chip can report; injected anomalies are held to the same ranges. */
export const METRIC_RANGES: Readonly<Record<keyof EnvironmentReading, readonly [number, number]>> = {
  temperature: [-40, 85],
  humidity: [0, 100],
  battery: [0, 100],
};

/** Position in the daily cycle: +1 at the warmest hour, -1 twelve hours later. */
export function dailyCycle(nowMs: number): number {
  const msIntoDay = ((nowMs % DAY_MS) + DAY_MS) % DAY_MS;
  const hoursFromPeak = msIntoDay / HOUR_MS - PEAK_HOUR_UTC;
  return Math.cos((2 * Math.PI * hoursFromPeak) / 24);
}

/** `value` held to the metric's range and rounded to two decimals, as the sensor reports it. */
export function sensorValue(metric: keyof EnvironmentReading, value: number): number {
  const [min, max] = METRIC_RANGES[metric];
  return round2(value < min ? min : value > max ? max : value);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function createEnvironmentProfile(random: Random): EnvironmentProfile {
  const baseTemperature = 18 + random() * 6; // 18..24 °C
  const temperatureAmplitude = 3 + random() * 2; // ±3..5 °C over the day
  const baseHumidity = 40 + random() * 20; // 40..60 %
  const humidityAmplitude = 8 + random() * 6; // drier when warmer
  const initialBattery = 60 + random() * 40; // 60..100 %
  let startedAt: number | undefined;
  // AR(1) noise: readings wander a little instead of jumping independently every sample.
  let temperatureDrift = 0;
  let humidityDrift = 0;

  return {
    next(nowMs) {
      startedAt ??= nowMs;
      const cycle = dailyCycle(nowMs);
      temperatureDrift = 0.9 * temperatureDrift + 0.1 * gaussian(random);
      humidityDrift = 0.9 * humidityDrift + 0.5 * gaussian(random);
      const temperature = baseTemperature + temperatureAmplitude * cycle + temperatureDrift + 0.05 * gaussian(random);
      const humidity = baseHumidity - humidityAmplitude * cycle + humidityDrift;
      const hoursRunning = (nowMs - startedAt) / HOUR_MS;
      const battery = initialBattery - BATTERY_DRAIN_PER_HOUR * hoursRunning + 0.02 * gaussian(random);
      return {
        temperature: sensorValue('temperature', temperature),
        humidity: sensorValue('humidity', humidity),
        battery: sensorValue('battery', battery),
      };
    },
  };
}

/** The default profile. Anomaly defaults: temperature moves about 0.3 °C and humidity about 1 %
 * between readings, so these are far outside the normal variation. */
export const ENVIRONMENT_PROFILE: ProfileDefinition = {
  name: 'environment',
  summary: 'indoor sensor: temperature (°C), humidity (%), battery (%), with a daily cycle',
  metrics: {
    temperature: { unit: '°C', range: METRIC_RANGES.temperature, decimals: 2, anomaly: { spike: 10, shift: 5, drift: 5, noise: 3 } },
    humidity: { unit: '%', range: METRIC_RANGES.humidity, decimals: 2, anomaly: { spike: 30, shift: 15, drift: 15, noise: 10 } },
    battery: { unit: '%', range: METRIC_RANGES.battery, decimals: 2, anomaly: { spike: -30, shift: -15, drift: -15, noise: 5 } },
  },
  obeysShadow: false,
  create: (random) => createEnvironmentProfile(random),
};
