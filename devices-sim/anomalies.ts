// Injected anomalies: what they are, their defaults, their text form `KIND:METRIC@SECONDS[:MAG][:DURs]`
// (the --anomaly flag) and the options that choose which devices get them. The injection itself
// is in anomaly-injector.ts; the ground-truth labels file in labels.ts.
// Which metrics exist, their ranges and default magnitudes come from the device profile
// (profiles/): a spec naming a metric the fleet's profile lacks is refused.

import { SimError } from './errors.js';
import { ENVIRONMENT_PROFILE, type EnvironmentReading } from './profiles/environment.js';
import { DEFAULT_PROFILE, PROFILE_NAMES, PROFILES, type ProfileName } from './profiles/index.js';

/** The metrics of the default (environment) profile. */
export const METRICS = ['temperature', 'humidity', 'battery'] as const satisfies readonly (keyof EnvironmentReading)[];
export type Metric = (typeof METRICS)[number];
/** A numeric metric of some profile (see PROFILES[name].metrics). */
export type MetricName = string;

export const ANOMALY_KINDS = ['spike', 'shift', 'drift', 'stuck', 'dropout', 'noise', 'flood'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface AnomalySpec {
  kind: AnomalyKind;
  /** null for dropout (the whole message is withheld) and flood (whole messages are added) */
  metric: MetricName | null;
  /** seconds after the device's first message */
  atS: number;
  /** in the metric's unit: the offset (spike, shift), the offset reached at the end (drift), the
   * standard deviation of the added noise (noise); for flood, how many messages the device sends
   * per scheduled one (2..100); null for stuck and dropout */
  magnitude: number | null;
  /** seconds the anomaly lasts; Infinity = until the run ends; 0 for spike (one reading) */
  durationS: number;
}

/** Ground truth of one injected anomaly, one JSON line of the --labels file. */
export interface AnomalyLabel {
  deviceId: string;
  metric: MetricName | null;
  kind: AnomalyKind;
  /** epoch ms (the payload's `ts`) of the first and last anomalous message sent; for dropout,
   * of the first and last message withheld; for flood, of the first and last message of the
   * window (every message sent in it counts) */
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

type MagnitudeKind = 'spike' | 'shift' | 'drift' | 'noise';
const MAGNITUDE_KINDS: readonly MagnitudeKind[] = ['spike', 'shift', 'drift', 'noise'];

/** Magnitudes of the environment profile when none is given (every profile states its own in
 * its metrics' `anomaly` defaults): far outside the normal variation between readings. */
export const DEFAULT_MAGNITUDE = Object.fromEntries(
  MAGNITUDE_KINDS.map((kind) => [kind, Object.fromEntries(METRICS.map((m) => [m, ENVIRONMENT_PROFILE.metrics[m].anomaly[kind]]))]),
) as Record<MagnitudeKind, Record<Metric, number>>;
/** A drift needs a finite ramp; every other window lasts until the run ends unless given. */
export const DEFAULT_DRIFT_S = 60;
/** A flood sends this many messages per scheduled one unless given; at most MAX_FLOOD_FACTOR. */
export const DEFAULT_FLOOD_FACTOR = 10;
export const MAX_FLOOD_FACTOR = 100;

/** Kinds about whole messages, not one metric's values, and the syntax a metric given to one breaks. */
const MESSAGE_KINDS = {
  dropout: 'the whole message is withheld): dropout@SECONDS[:DURATIONs]',
  flood: 'whole messages are added): flood@SECONDS[:FACTOR][:DURATIONs]',
} as const;
function isMessageKind(kind: AnomalyKind): kind is keyof typeof MESSAGE_KINDS {
  return Object.hasOwn(MESSAGE_KINDS, kind);
}

export const ANOMALY_SYNTAX = 'KIND:METRIC@SECONDS[:MAGNITUDE][:DURATIONs] (dropout@SECONDS[:DURATIONs], flood@SECONDS[:FACTOR][:DURATIONs])';

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', message);
}

/** Kinds whose magnitude is in a metric's unit (flood's is a factor of messages). */
function hasMagnitude(kind: AnomalyKind): kind is MagnitudeKind {
  return (MAGNITUDE_KINDS as readonly AnomalyKind[]).includes(kind);
}

/** The numeric metrics of a profile, in payload order. */
export function profileMetrics(profile: ProfileName = DEFAULT_PROFILE): string[] {
  return Object.keys(PROFILES[profile].metrics);
}

/** The profile's spelling of `text` (metrics match case-insensitively), or undefined. */
function metricOf(text: string, profile: ProfileName): MetricName | undefined {
  const wanted = text.trim().toLowerCase();
  return profileMetrics(profile).find((m) => m.toLowerCase() === wanted);
}

/** Why `metric` cannot be used with `profile`, naming the profile's metrics and, when another
 * profile has it, that one. */
function unknownMetric(metric: string, profile: ProfileName): string {
  const owners = PROFILE_NAMES.filter((p) => p !== profile && metricOf(metric, p) !== undefined);
  const hint = owners.length > 0 ? `; "${metric}" is a metric of the ${owners.join(' and ')} profile` : '';
  return `unknown metric "${metric}" (one of ${profileMetrics(profile).join(', ')}) for the ${profile} profile${hint}`;
}

/** Parses one --anomaly value for a fleet of `profile` devices, filling that profile's defaults;
 * throws InvalidArgumentException. */
export function parseAnomalySpec(text: string, profile: ProfileName = DEFAULT_PROFILE): AnomalySpec {
  const fail: (why: string) => never = (why) => invalid(`anomaly "${text}": ${why}`);
  const at = text.indexOf('@');
  if (at < 0) fail(`expected ${ANOMALY_SYNTAX}`);
  const [kindText, metricText, ...extra] = text.slice(0, at).split(':');
  const kind = ANOMALY_KINDS.find((k) => k === kindText.trim().toLowerCase());
  if (!kind) fail(`unknown kind "${kindText}" (one of ${ANOMALY_KINDS.join(', ')})`);
  if (extra.length > 0) fail(`expected ${ANOMALY_SYNTAX}`);
  let metric: MetricName | null = null;
  if (isMessageKind(kind)) {
    if (metricText !== undefined) fail(`${kind} takes no metric (${MESSAGE_KINDS[kind]}`);
  } else {
    if (metricText === undefined) fail(`missing metric (one of ${profileMetrics(profile).join(', ')})`);
    metric = metricOf(metricText, profile) ?? fail(unknownMetric(metricText, profile));
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
    magnitude: kind === 'flood' ? (magnitude ?? DEFAULT_FLOOD_FACTOR) : hasMagnitude(kind) ? (magnitude ?? PROFILES[profile].metrics[metric!].anomaly[kind]) : null,
    durationS: kind === 'spike' ? 0 : (durationS ?? (kind === 'drift' ? DEFAULT_DRIFT_S : Number.POSITIVE_INFINITY)),
  };
  if (spec.magnitude === null && magnitude !== undefined) fail(`${kind} takes no magnitude (a duration ends with "s", e.g. 20s)`);
  if (kind === 'spike' && durationS !== undefined) fail('spike takes no duration (it changes one reading)');
  checkAnomalySpec(spec, fail, profile);
  return spec;
}

function numberIn(text: string, message: string, fail: (why: string) => never): number {
  const value = text.trim() === '' ? Number.NaN : Number(text.trim());
  return Number.isFinite(value) ? value : fail(message);
}

/** Validates a spec built in code, or parsed for another profile, against `profile`. */
export function checkAnomalySpec(spec: AnomalySpec, fail: (why: string) => never, profile: ProfileName = DEFAULT_PROFILE): void {
  if (!ANOMALY_KINDS.includes(spec.kind)) fail(`unknown kind "${String(spec.kind)}" (one of ${ANOMALY_KINDS.join(', ')})`);
  if (isMessageKind(spec.kind)) {
    if (spec.metric !== null) fail(`${spec.kind} takes no metric`);
  } else if (typeof spec.metric !== 'string' || !Object.hasOwn(PROFILES[profile].metrics, spec.metric)) {
    fail(unknownMetric(String(spec.metric), profile));
  }
  if (!(Number.isFinite(spec.atS) && spec.atS >= 0)) fail(`start must be a number of seconds >= 0, got ${spec.atS}`);
  if (spec.kind === 'flood') {
    const f = spec.magnitude;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 2 || f > MAX_FLOOD_FACTOR) {
      fail(`flood factor must be a whole number of messages per scheduled one from 2 to ${MAX_FLOOD_FACTOR}, got ${String(f)}`);
    }
  } else if (hasMagnitude(spec.kind)) {
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
  const sign = spec.magnitude !== null && spec.magnitude > 0 && spec.kind !== 'flood' ? '+' : '';
  const magnitude = spec.magnitude === null ? '' : `:${sign}${spec.magnitude}`;
  const duration = spec.durationS === 0 || !Number.isFinite(spec.durationS) ? '' : `:${spec.durationS}s`;
  return `${target}@${spec.atS}${magnitude}${duration}`;
}

/**
 * Validates the anomaly options of a fleet `<prefix>-1..<prefix>-<devices>` of `profile` devices
 * and returns the 1-based indexes of the devices that get anomalies. Messages start with the CLI
 * flag's name.
 */
export function resolveAnomalyDevices(options: AnomalyOptions, prefix: string, devices: number, profile: ProfileName = DEFAULT_PROFILE): number[] {
  if (options.specs.length > MAX_ANOMALY_SPECS) invalid(`anomaly may be given at most ${MAX_ANOMALY_SPECS} times, got ${options.specs.length}`);
  options.specs.forEach((spec) => checkAnomalySpec(spec, (why) => invalid(`anomaly "${formatAnomalySpec(spec)}": ${why}`), profile));
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
