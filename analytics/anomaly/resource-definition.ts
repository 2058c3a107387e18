// Detector resources (issue 6): an anomaly detector or a data-quality alarm bound to a datastore's
// columns, declared in the configuration or through PUT /api/detectors/{name}. This file is the
// definition's shape and its validation (once, when the definition is put); monitors.ts and
// quality.ts run it.
import { invalidRequest } from '../errors.js';
import { checkResourceName } from '../names.js';
import type { AlertSeverity } from './alert.js';
import { parsePath } from '../pipelines/paths.js';
import { checkMaxDevices, checkThreshold, resolveDetector } from './spec.js';
import type { DetectorMaker } from './spec.js';

export const DETECTOR_RESOURCE_TYPES = ['anomaly', 'silent', 'flood', 'flatline', 'range'] as const;
export type DetectorResourceType = (typeof DETECTOR_RESOURCE_TYPES)[number];
const SEVERITIES: readonly AlertSeverity[] = ['CRITICAL', 'MAJOR', 'MINOR', 'WARNING', 'INDETERMINATE'];

export interface DetectorResourceDefinition {
  detectorName: string;
  datastoreName: string;
  /** default 'anomaly' */
  type?: DetectorResourceType;
  /** the column scored or checked (anomaly, flatline, range) */
  attribute?: string;
  /** the column naming the device (default 'deviceId') */
  deviceAttribute?: string;
  /** default 'MAJOR' */
  severity?: AlertSeverity;
  /** devices tracked at once (default 10 000); the least recently seen is forgotten beyond it */
  maxDevices?: number;
  // anomaly
  detector?: string;
  params?: Record<string, unknown>;
  threshold?: number;
  /** anomaly, range: consecutive normal points before the alert clears (anomaly 3, range 1) */
  clearAfter?: number;
  // silent
  expectedIntervalSeconds?: number;
  /** silent: missed intervals before the alert (default 3) */
  intervals?: number;
  // flood
  maxPerMinute?: number;
  // flatline
  /** consecutive equal values that make a flatline (default 10) */
  points?: number;
  /** flatline: largest difference still counted as the same value (default 0) */
  tolerance?: number;
  // range
  min?: number;
  max?: number;
}

/** A validated definition with its defaults filled in. */
export interface ResolvedDetectorResource {
  def: DetectorResourceDefinition;
  type: DetectorResourceType;
  name: string;
  datastoreName: string;
  attribute: string;
  deviceAttribute: string;
  severity: AlertSeverity;
  maxDevices: number;
  /** anomaly only */
  make?: DetectorMaker;
  threshold: number;
  clearAfter: number;
  expectedIntervalMs: number;
  intervals: number;
  maxPerMinute: number;
  points: number;
  tolerance: number;
  min: number;
  max: number;
}

const COMMON = ['detectorName', 'datastoreName', 'type', 'deviceAttribute', 'severity', 'maxDevices'];
const MEMBERS: Record<DetectorResourceType, readonly string[]> = {
  anomaly: [...COMMON, 'attribute', 'detector', 'params', 'threshold', 'clearAfter'],
  silent: [...COMMON, 'expectedIntervalSeconds', 'intervals'],
  flood: [...COMMON, 'maxPerMinute'],
  flatline: [...COMMON, 'attribute', 'points', 'tolerance'],
  range: [...COMMON, 'attribute', 'min', 'max', 'clearAfter'],
};

export function resolveDetectorResource(input: unknown): ResolvedDetectorResource {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidRequest('a detector definition must be an object');
  const d = input as Record<string, unknown>;
  const name = checkResourceName(d.detectorName, 'detectorName');
  const where = `detector "${name}"`;
  const datastoreName = checkResourceName(d.datastoreName, 'datastoreName');
  const type = (d.type ?? 'anomaly') as DetectorResourceType;
  if (!DETECTOR_RESOURCE_TYPES.includes(type)) throw invalidRequest(`${where}: type must be one of ${DETECTOR_RESOURCE_TYPES.join(', ')}`);
  for (const k of Object.keys(d)) {
    if (d[k] !== undefined && !MEMBERS[type].includes(k)) throw invalidRequest(`${where}: "${k}" is not a member of a ${type} detector (allowed: ${MEMBERS[type].join(', ')})`);
  }
  const needsAttribute = type === 'anomaly' || type === 'flatline' || type === 'range';
  const attribute = needsAttribute ? column(d.attribute, 'attribute', where) : '';
  const deviceAttribute = d.deviceAttribute === undefined ? 'deviceId' : column(d.deviceAttribute, 'deviceAttribute', where);
  const severity = (d.severity ?? 'MAJOR') as AlertSeverity;
  if (!SEVERITIES.includes(severity)) throw invalidRequest(`${where}: severity must be one of ${SEVERITIES.join(', ')}`);

  const r: ResolvedDetectorResource = {
    def: structuredClone(d) as unknown as DetectorResourceDefinition,
    type,
    name,
    datastoreName,
    attribute,
    deviceAttribute,
    severity,
    maxDevices: checkMaxDevices(d.maxDevices, where),
    threshold: 0,
    clearAfter: int(d.clearAfter, 'clearAfter', type === 'anomaly' ? 3 : 1, 1, 1_000_000, where),
    expectedIntervalMs: 0,
    intervals: 0,
    maxPerMinute: 0,
    points: 0,
    tolerance: 0,
    min: -Infinity,
    max: Infinity,
  };
  if (type === 'anomaly') {
    const detector = resolveDetector(d.detector, d.params, where);
    r.make = detector.make;
    r.threshold = checkThreshold(d.threshold, where, detector.threshold);
  } else if (type === 'silent') {
    if (d.expectedIntervalSeconds === undefined) throw invalidRequest(`${where}: a silent detector needs expectedIntervalSeconds`);
    const seconds = d.expectedIntervalSeconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 31_536_000) {
      throw invalidRequest(`${where}: expectedIntervalSeconds must be a number in (0, 31536000]`);
    }
    r.expectedIntervalMs = seconds * 1000;
    r.intervals = int(d.intervals, 'intervals', 3, 1, 1_000_000, where);
  } else if (type === 'flood') {
    if (d.maxPerMinute === undefined) throw invalidRequest(`${where}: a flood detector needs maxPerMinute`);
    r.maxPerMinute = int(d.maxPerMinute, 'maxPerMinute', 0, 1, 100_000_000, where);
  } else if (type === 'flatline') {
    r.points = int(d.points, 'points', 10, 2, 1_000_000, where);
    const t = d.tolerance ?? 0;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw invalidRequest(`${where}: tolerance must be a number ≥ 0`);
    r.tolerance = t;
  } else if (type === 'range') {
    if (d.min === undefined && d.max === undefined) throw invalidRequest(`${where}: a range detector needs min, max or both`);
    for (const k of ['min', 'max'] as const) {
      const v = d[k];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw invalidRequest(`${where}: ${k} must be a number`);
    }
    r.min = (d.min as number | undefined) ?? -Infinity;
    r.max = (d.max as number | undefined) ?? Infinity;
    if (r.min > r.max) throw invalidRequest(`${where}: min must not exceed max`);
  }
  return r;
}

/** Columns are top-level datastore columns: one name, no path. */
function column(v: unknown, member: string, where: string): string {
  if (typeof v !== 'string') throw invalidRequest(`${where}: ${member} must be a column name`);
  const segments = parsePath(v, `${where}: ${member}`);
  if (segments.length !== 1) throw invalidRequest(`${where}: ${member} must be one column name, not a path`);
  return v;
}

function int(v: unknown, member: string, fallback: number, min: number, max: number, where: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw invalidRequest(`${where}: ${member} must be an integer in ${min}..${max}`);
  return v as number;
}
