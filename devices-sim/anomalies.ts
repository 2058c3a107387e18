// Injected anomalies: what they are, their defaults, their text form `KIND:METRIC@SECONDS[:MAG][:DURs]`
// (the --anomaly flag) and the options that choose which devices get them. The injection itself
// is in anomaly-injector.ts; the ground-truth labels file in labels.ts.

import { SimError } from './errors.js';
import type { EnvironmentReading } from './profiles/environment.js';

export const METRICS = ['temperature', 'humidity', 'battery'] as const satisfies readonly (keyof EnvironmentReading)[];
export type Metric = (typeof METRICS)[number];

export const ANOMALY_KINDS = ['spike', 'shift', 'drift', 'stuck', 'dropout', 'noise'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalySpec {
  kind: AnomalyKind;
  /** null for dropout: the whole message is withheld */
  metric: Metric | null;
  /** seconds after the device's first message */
  atS: number;
  /** in the metric's unit: the offset (spike, shift), the offset reached at the end (drift), the
   * standard deviation of the added noise (noise); null for stuck and dropout */
  magnitude: number | null;
  /** seconds the anomaly lasts; Infinity = until the run ends; 0 for spike (one reading) */
  durationS: number;
}

/** Ground truth of one injected anomaly, one JSON line of the --labels file. */
export interface AnomalyLabel {
  deviceId: string;
  metric: Metric | null;
  kind: AnomalyKind;
  /** epoch ms (the payload's `ts`) of the first and last anomalous message sent; for dropout,
   * of the first and last message withheld */
  startTs: number;
  endTs: number;
  magnitude: number | null;
  /** anomalous messages sent (withheld, for dropout) */
  messages: number;
}

export interface AnomalyOptions {
  specs: AnomalySpec[];
  /** which devices get the anomalies: the first N, or their ids (default 1: the first) */
  devices?: number | string[];
  /** random anomalies: probability per selected device per minute that one starts (default 0 = none) */
  ratePerMinute?: number;
  /** where the labels are written as JSON lines (truncated at the start of the run) */
  labelsFile?: string;
  /** called with every label as it is closed, e.g. by tests measuring detection latency */
  onLabel?: (label: AnomalyLabel) => void;
}

/** Bounds: a typo cannot make the injector hold millions of windows. */
export const MAX_ANOMALY_SPECS = 100;
export const MAX_INJECTIONS = 100_000;
export const MAX_ANOMALY_RATE = 0.99;

/** Magnitudes when none is given: far outside the profile's normal variation (temperature moves
 * about 0.3 °C and humidity about 1 % between readings), so a working detector must see them. */
export const DEFAULT_MAGNITUDE: Record<'spike' | 'shift' | 'drift' | 'noise', Record<Metric, number>> = {
  spike: { temperature: 10, humidity: 30, battery: -30 },
  shift: { temperature: 5, humidity: 15, battery: -15 },
  drift: { temperature: 5, humidity: 15, battery: -15 },
  noise: { temperature: 3, humidity: 10, battery: 5 },
};
/** A drift needs a finite ramp; every other window lasts until the run ends unless given. */
export const DEFAULT_DRIFT_S = 60;

export const ANOMALY_SYNTAX = 'KIND:METRIC@SECONDS[:MAGNITUDE][:DURATIONs] (dropout@SECONDS[:DURATIONs])';

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', message);
}

function hasMagnitude(kind: AnomalyKind): kind is 'spike' | 'shift' | 'drift' | 'noise' {
  return kind !== 'stuck' && kind !== 'dropout';
}

/** Parses one --anomaly value, filling the defaults; throws InvalidArgumentException. */
export function parseAnomalySpec(text: string): AnomalySpec {
  const fail: (why: string) => never = (why) => invalid(`anomaly "${text}": ${why}`);
  const at = text.indexOf('@');
  if (at < 0) fail(`expected ${ANOMALY_SYNTAX}`);
  const [kindText, metricText, ...extra] = text.slice(0, at).split(':');
  const kind = ANOMALY_KINDS.find((k) => k === kindText.trim().toLowerCase());
  if (!kind) fail(`unknown kind "${kindText}" (one of ${ANOMALY_KINDS.join(', ')})`);
  if (extra.length > 0) fail(`expected ${ANOMALY_SYNTAX}`);
  let metric: Metric | null = null;
  if (kind === 'dropout') {
    if (metricText !== undefined) fail('dropout takes no metric (the whole message is withheld): dropout@SECONDS[:DURATIONs]');
  } else {
    metric = METRICS.find((m) => m === metricText?.trim().toLowerCase()) ?? null;
    if (!metric) fail(`${metricText === undefined ? 'missing metric' : `unknown metric "${metricText}"`} (one of ${METRICS.join(', ')})`);
  }

  const [atText, ...rest] = text.slice(at + 1).split(':');
  const atS = numberIn(atText, `start "${atText}" must be a number of seconds >= 0`, fail);
  if (atS < 0) fail(`start "${atText}" must be a number of seconds >= 0`);
  if (rest.length > 2) fail(`expected ${ANOMALY_SYNTAX}`);
  let magnitude: number | undefined;
  let durationS: number | undefined;
  for (const field of rest) {
    if (/s$/i.test(field.trim())) {
      if (durationS !== undefined) fail('duration given twice');
      durationS = numberIn(field.trim().slice(0, -1), `duration "${field}" must be seconds followed by "s", e.g. 30s`, fail);
    } else {
      if (magnitude !== undefined || durationS !== undefined) fail('the magnitude comes before the duration, once');
      magnitude = numberIn(field, `magnitude "${field}" must be a number, e.g. +8 or -2.5 (a duration ends with "s")`, fail);
    }
  }
  const spec: AnomalySpec = {
    kind,
    metric,
    atS,
    magnitude: hasMagnitude(kind) ? (magnitude ?? DEFAULT_MAGNITUDE[kind][metric!]) : null,
    durationS: kind === 'spike' ? 0 : (durationS ?? (kind === 'drift' ? DEFAULT_DRIFT_S : Number.POSITIVE_INFINITY)),
  };
  if (!hasMagnitude(kind) && magnitude !== undefined) fail(`${kind} takes no magnitude (a duration ends with "s", e.g. 20s)`);
  if (kind === 'spike' && durationS !== undefined) fail('spike takes no duration (it changes one reading)');
  checkAnomalySpec(spec, fail);
  return spec;
}

function numberIn(text: string, message: string, fail: (why: string) => never): number {
  const value = text.trim() === '' ? Number.NaN : Number(text.trim());
  return Number.isFinite(value) ? value : fail(message);
}

/** Validates a spec built in code (the CLI's are built by parseAnomalySpec). */
export function checkAnomalySpec(spec: AnomalySpec, fail: (why: string) => never): void {
  if (!ANOMALY_KINDS.includes(spec.kind)) fail(`unknown kind "${String(spec.kind)}" (one of ${ANOMALY_KINDS.join(', ')})`);
  if (spec.kind === 'dropout' ? spec.metric !== null : !METRICS.includes(spec.metric as Metric)) {
    fail(spec.kind === 'dropout' ? 'dropout takes no metric' : `unknown metric "${String(spec.metric)}" (one of ${METRICS.join(', ')})`);
  }
  if (!(Number.isFinite(spec.atS) && spec.atS >= 0)) fail(`start must be a number of seconds >= 0, got ${spec.atS}`);
  if (hasMagnitude(spec.kind)) {
    if (typeof spec.magnitude !== 'number' || !Number.isFinite(spec.magnitude) || spec.magnitude === 0) {
      fail(`magnitude must be a number other than 0, got ${String(spec.magnitude)}`);
    }
    if (spec.kind === 'noise' && spec.magnitude < 0) fail(`noise magnitude is a standard deviation and must be > 0, got ${spec.magnitude}`);
  } else if (spec.magnitude !== null) {
    fail(`${spec.kind} takes no magnitude`);
  }
  if (spec.kind === 'spike') {
    if (spec.durationS !== 0) fail('spike takes no duration (it changes one reading)');
  } else if (!(spec.durationS > 0) || (spec.kind === 'drift' && !Number.isFinite(spec.durationS))) {
    fail(`duration must be a number of seconds > 0${spec.kind === 'drift' ? ' (finite for a drift)' : ''}, got ${spec.durationS}`);
  }
}

/** Canonical text of a spec, the --anomaly form (for messages and the summary). */
export function formatAnomalySpec(spec: AnomalySpec): string {
  const target = spec.metric === null ? spec.kind : `${spec.kind}:${spec.metric}`;
  const magnitude = spec.magnitude === null ? '' : `:${spec.magnitude > 0 ? '+' : ''}${spec.magnitude}`;
  const duration = spec.durationS === 0 || !Number.isFinite(spec.durationS) ? '' : `:${spec.durationS}s`;
  return `${target}@${spec.atS}${magnitude}${duration}`;
}

/**
 * Validates the anomaly options of a fleet `<prefix>-1..<prefix>-<devices>` and returns the
 * 1-based indexes of the devices that get anomalies. Messages start with the CLI flag's name.
 */
export function resolveAnomalyDevices(options: AnomalyOptions, prefix: string, devices: number): number[] {
  if (options.specs.length > MAX_ANOMALY_SPECS) invalid(`anomaly may be given at most ${MAX_ANOMALY_SPECS} times, got ${options.specs.length}`);
  options.specs.forEach((spec) => checkAnomalySpec(spec, (why) => invalid(`anomaly "${formatAnomalySpec(spec)}": ${why}`)));
  const rate = options.ratePerMinute ?? 0;
  if (!(Number.isFinite(rate) && rate >= 0 && rate <= MAX_ANOMALY_RATE)) {
    invalid(`anomaly-rate must be a probability per minute between 0 and ${MAX_ANOMALY_RATE}, got ${rate}`);
  }
  const selected = options.devices ?? 1;
  let indexes: number[];
  if (typeof selected === 'number') {
    const n = selected;
    if (!(Number.isInteger(n) && n >= 1 && n <= devices)) invalid(`anomaly-devices must be a count between 1 and ${devices} (the fleet size) or device ids, got ${n}`);
    indexes = Array.from({ length: n }, (_, i) => i + 1);
  } else {
    if (selected.length === 0) invalid('anomaly-devices names no device');
    const set = new Set<number>();
    for (const id of selected) {
      const n = id.startsWith(`${prefix}-`) ? Number(id.slice(prefix.length + 1)) : Number.NaN;
      if (!(Number.isInteger(n) && n >= 1 && n <= devices && id === `${prefix}-${n}`)) {
        invalid(`anomaly-devices: "${id}" is not a device of this fleet (${prefix}-1 to ${prefix}-${devices})`);
      }
      set.add(n);
    }
    indexes = [...set].sort((a, b) => a - b);
  }
  if (options.specs.length * indexes.length > MAX_INJECTIONS) {
    invalid(`anomaly x anomaly-devices would inject ${options.specs.length * indexes.length} anomalies, more than ${MAX_INJECTIONS}`);
  }
  return indexes;
}
