// The vibration profile: a condition-monitoring sensor on a rotating machine (motor, pump, fan)
// reporting the RMS vibration velocity (mm/s, what ISO 10816 zones are stated in), the peak
// acceleration (g), the spindle speed (rpm) and the bearing temperature (°C).
// The machine's load wanders slowly; the bearing wears: velocity, acceleration and temperature
// creep up with running hours at a per-device rate, the slow trend predictive maintenance watches.

import { gaussian, type Random } from '../random.js';
import { metricValue, ouStep, type DeviceProfile, type MetricSpec, type ProfileDefinition } from './profile.js';

export type VibrationReading = {
  rmsVelocity: number;
  peakAcceleration: number;
  spindleRpm: number;
  bearingTemperature: number;
};

const HOUR_MS = 60 * 60 * 1000;
/** Synchronous speeds of 2- and 4-pole motors on 50 and 60 Hz grids. */
const NOMINAL_RPM = [1500, 1800, 3000, 3600] as const;
/** Load: mean 1 (rated), wanders with this standard deviation and time constant. */
const LOAD_SD = 0.1;
const LOAD_TAU_S = 600;

export const VIBRATION_METRICS: Readonly<Record<keyof VibrationReading, MetricSpec>> = {
  rmsVelocity: { unit: 'mm/s', range: [0, 100], decimals: 2, anomaly: { spike: 8, shift: 4, drift: 4, noise: 2 } },
  peakAcceleration: { unit: 'g', range: [0, 100], decimals: 2, anomaly: { spike: 10, shift: 3, drift: 3, noise: 1.5 } },
  spindleRpm: { unit: 'rpm', range: [0, 20_000], decimals: 0, anomaly: { spike: -600, shift: -300, drift: -300, noise: 150 } },
  bearingTemperature: { unit: '°C', range: [-40, 200], decimals: 2, anomaly: { spike: 15, shift: 10, drift: 10, noise: 4 } },
};

export function createVibrationProfile(random: Random): DeviceProfile<VibrationReading> {
  const nominalRpm = NOMINAL_RPM[Math.floor(random() * NOMINAL_RPM.length)];
  const baseVelocity = 0.8 + random() * 1.6; // mm/s: ISO 10816 zone A/B, a healthy machine
  const baseAcceleration = 0.3 + random() * 0.5; // g
  const ambient = 25 + random() * 10; // °C around the machine
  const wearPerHour = 0.01 + random() * 0.03; // +1..4 % vibration per running hour
  let startedAt: number | undefined;
  let lastAt: number | undefined;
  let load = 0; // deviation from rated load
  let thermal = 0; // slow deviation of the bearing temperature

  return {
    next(nowMs) {
      startedAt ??= nowMs;
      const dtS = lastAt === undefined ? 0 : Math.max(0, nowMs - lastAt) / 1000;
      lastAt = nowMs;
      load = ouStep(load, dtS, LOAD_TAU_S, LOAD_SD, gaussian(random));
      thermal = ouStep(thermal, dtS, 300, 0.4, gaussian(random));
      const wear = 1 + (wearPerHour * (nowMs - startedAt)) / HOUR_MS;
      const loadFactor = 1 + load;
      // induction motors slip a little more under load
      const rpm = nominalRpm * (1 - 0.01 * load) * (1 + 0.001 * gaussian(random));
      const velocity = baseVelocity * wear * (0.85 + 0.15 * loadFactor) * (1 + 0.04 * gaussian(random));
      // a worn bearing adds high-frequency content: acceleration grows faster than velocity
      const acceleration = baseAcceleration * wear ** 1.5 * (rpm / nominalRpm) ** 2 * (1 + 0.08 * gaussian(random));
      const temperature = ambient + 20 * loadFactor + 6 * (wear - 1) + thermal + 0.05 * gaussian(random);
      return {
        rmsVelocity: metricValue(VIBRATION_METRICS.rmsVelocity, velocity),
        peakAcceleration: metricValue(VIBRATION_METRICS.peakAcceleration, acceleration),
        spindleRpm: metricValue(VIBRATION_METRICS.spindleRpm, rpm),
        bearingTemperature: metricValue(VIBRATION_METRICS.bearingTemperature, temperature),
      };
    },
  };
}

export const VIBRATION_PROFILE: ProfileDefinition = {
  name: 'vibration',
  summary: 'rotating machine: rmsVelocity (mm/s), peakAcceleration (g), spindleRpm, bearingTemperature (°C), slow wear trend',
  metrics: VIBRATION_METRICS,
  obeysShadow: false,
  create: (random) => createVibrationProfile(random),
};
