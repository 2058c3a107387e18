// The plug profile: a smart plug metering the appliance behind it, reporting power (W), voltage
// (V), current (A), the energy meter (kWh, accumulating while on) and its relay state ("on" or
// "off"). It obeys its classic shadow: a delta `{"state":{"power":"on"|"off"}}` switches the
// relay, and the plug reports `{"state":{"reported":{"power":...}}}` at every connect and after
// every change. Off, the meter reads ~0 W and 0 A.

import { gaussian, type Random } from '../random.js';
import { metricValue, ouStep, type DeviceProfile, type MetricSpec, type ProfileDefinition, type ShadowHandler } from './profile.js';

export type PlugPower = 'on' | 'off';

export type PlugReading = {
  power: number;
  voltage: number;
  current: number;
  energy: number;
  state: PlugPower;
};

/** The shadow field (desired and reported) that switches the relay. */
export const PLUG_SHADOW_FIELD = 'power';
/** A plug starts switched on, so a fresh fleet shows load. */
export const PLUG_INITIAL_POWER: PlugPower = 'on';
const NOMINAL_VOLTAGE = 230;

export const PLUG_METRICS: Readonly<Record<Exclude<keyof PlugReading, 'state'>, MetricSpec>> = {
  power: { unit: 'W', range: [0, 3680], decimals: 1, anomaly: { spike: 1000, shift: 300, drift: 500, noise: 100 } },
  voltage: { unit: 'V', range: [0, 300], decimals: 1, anomaly: { spike: -40, shift: -15, drift: -20, noise: 5 } },
  current: { unit: 'A', range: [0, 16], decimals: 3, anomaly: { spike: 5, shift: 1.5, drift: 2, noise: 0.5 } },
  energy: { unit: 'kWh', range: [0, 1_000_000], decimals: 4, anomaly: { spike: 10, shift: 5, drift: 5, noise: 1 } },
};

/** The update document a plug publishes on `$aws/things/<id>/shadow/update`. */
export function plugReportedDocument(power: PlugPower): { state: { reported: Record<string, unknown> } } {
  return { state: { reported: { [PLUG_SHADOW_FIELD]: power } } };
}

/**
 * The relay and its shadow contract. `applyDelta` takes the document the broker publishes on
 * `.../shadow/update/delta` ({state, version, metadata, ...}); a `power` of "on" or "off" is
 * applied (also one equal to the current state: the report then repairs a stale reported value);
 * a delta without a usable `power` is ignored.
 */
export class PlugRelay implements ShadowHandler {
  constructor(public power: PlugPower = PLUG_INITIAL_POWER) {}

  reportedDocument(): { state: { reported: Record<string, unknown> } } {
    return plugReportedDocument(this.power);
  }

  applyDelta(document: unknown): 'applied' | 'ignored' {
    const state = isObject(document) ? document.state : undefined;
    const wanted = isObject(state) ? state[PLUG_SHADOW_FIELD] : undefined;
    if (wanted !== 'on' && wanted !== 'off') return 'ignored';
    this.power = wanted;
    return 'applied';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface PlugProfile extends DeviceProfile<PlugReading> {
  shadow: PlugRelay;
}

export function createPlugProfile(random: Random, relay = new PlugRelay()): PlugProfile {
  // appliances from a lamp to a kettle: log-uniform 20..2000 W
  const ratedPower = 20 * 100 ** random();
  const powerFactor = 0.9 + random() * 0.1;
  let energy = random() * 50; // kWh already on the meter
  let loadDeviation = 0; // fraction of the rated power
  let voltageDeviation = 0; // V
  let lastAt: number | undefined;

  return {
    shadow: relay,
    next(nowMs) {
      const dtS = lastAt === undefined ? 0 : Math.max(0, nowMs - lastAt) / 1000;
      lastAt = nowMs;
      loadDeviation = ouStep(loadDeviation, dtS, 300, 0.05, gaussian(random));
      voltageDeviation = ouStep(voltageDeviation, dtS, 120, 2, gaussian(random));
      const loadNoise = gaussian(random);
      const voltageNoise = gaussian(random);
      const on = relay.power === 'on';
      const voltage = NOMINAL_VOLTAGE + voltageDeviation + 0.3 * voltageNoise;
      // off: the relay is open, the meter reads only its own noise floor
      const power = on ? ratedPower * (1 + loadDeviation) * (1 + 0.01 * loadNoise) : Math.abs(0.05 * loadNoise);
      const current = on ? power / (voltage * powerFactor) : 0;
      if (on) energy += (power * dtS) / 3_600_000; // W·s → kWh
      return {
        power: metricValue(PLUG_METRICS.power, power),
        voltage: metricValue(PLUG_METRICS.voltage, voltage),
        current: metricValue(PLUG_METRICS.current, current),
        energy: metricValue(PLUG_METRICS.energy, energy),
        state: relay.power,
      };
    },
  };
}

export const PLUG_PROFILE: ProfileDefinition = {
  name: 'plug',
  summary: 'smart plug obeying its shadow: power (W), voltage (V), current (A), energy (kWh), state "on"/"off"',
  metrics: PLUG_METRICS,
  obeysShadow: true,
  create: (random) => createPlugProfile(random),
};
