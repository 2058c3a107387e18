// What every device profile provides: a reading per publish, the numeric metrics injected
// anomalies may target (with the sensor's range, resolution and default anomaly sizes), and,
// for devices that obey their shadow, a handler for the desired state.

import type { Random } from '../random.js';

/** One reading: the payload's attributes besides deviceId, ts and seq. */
export type Reading = Record<string, number | string>;

export interface DeviceProfile<R extends Reading = Reading> {
  /** The reading at wall-clock time `nowMs` (epoch ms). Call with non-decreasing times. */
  next(nowMs: number): R;
  /** present for devices whose state follows the desired state of their classic shadow */
  shadow?: ShadowHandler;
}

/** A device that obeys `$aws/things/<id>/shadow/update/delta` and reports on `.../update`. */
export interface ShadowHandler {
  /** The update document reporting the device's current state (published at every connect and
   * after every applied delta), e.g. `{"state":{"reported":{"power":"on"}}}`. */
  reportedDocument(): { state: { reported: Record<string, unknown> } };
  /** Applies a delta document (its `state` holds the desired fields reported lacks). 'applied'
   * when it held a field the device understands (the device then reports), 'ignored' otherwise:
   * reporting after an unusable delta would only make the broker send the same delta again. */
  applyDelta(document: unknown): 'applied' | 'ignored';
}

/** Default anomaly magnitudes, in the metric's unit: far outside its normal variation between
 * readings, so a working detector must see them. */
export interface AnomalyDefaults {
  spike: number;
  shift: number;
  drift: number;
  /** standard deviation of the added noise */
  noise: number;
}

export interface MetricSpec {
  unit: string;
  /** what the sensor can report; injected anomalies are held to it too */
  range: readonly [number, number];
  /** decimals the sensor reports */
  decimals: number;
  /** an angle: values past the range wrap around instead of being clamped */
  wraps?: boolean;
  anomaly: AnomalyDefaults;
}

export interface ProfileDefinition {
  name: string;
  /** one line for --help and the README */
  summary: string;
  /** the numeric metrics, in payload order: the ones an --anomaly may name */
  metrics: Readonly<Record<string, MetricSpec>>;
  /** its devices obey their shadow (create() gives them a ShadowHandler): they subscribe to the
   * delta topic and publish reports, which a provisioned fleet's policy must allow */
  obeysShadow: boolean;
  /** A device's profile; `random` is its own seeded stream (same seed, same readings). */
  create(random: Random, deviceId: string): DeviceProfile;
}

/** `value` as the sensor reports it: held to (or, for angles, wrapped into) the range, rounded. */
export function metricValue(spec: MetricSpec, value: number): number {
  const [min, max] = spec.range;
  const scale = 10 ** spec.decimals;
  if (spec.wraps) {
    const span = max - min;
    const rounded = Math.round(value * scale) / scale;
    return Math.round((((((rounded - min) % span) + span) % span) + min) * scale) / scale;
  }
  return Math.round((value < min ? min : value > max ? max : value) * scale) / scale;
}

/**
 * Ornstein-Uhlenbeck step: a quantity pulled back to 0 with time constant `tauS`, with stationary
 * standard deviation `sd`. Exact for any `dtS`, so the statistics do not depend on the publish
 * rate or on a late scheduler tick. Callers draw the Gaussian sample on every call (also for dtS
 * 0), so a device's random stream advances the same way whatever the timing.
 */
export function ouStep(x: number, dtS: number, tauS: number, sd: number, gaussianSample: number): number {
  const decay = Math.exp(-dtS / tauS);
  return x * decay + sd * Math.sqrt(1 - decay * decay) * gaussianSample;
}
