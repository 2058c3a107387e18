// What the detectAnomalies activity and the detector resources share: naming a detector with its
// parameters, and the threshold. Everything is checked once, when the definition is made — the
// factory builds one probe detector so bad parameters are refused then, never on the first point.
import { invalidRequest } from '../errors.js';
import type { Detector, DetectorParams } from './detector.js';
import { DEFAULT_DETECTOR_NAME, detectorFactory } from './registry.js';
import { DEFAULT_MAX_DEVICES, MAX_MAX_DEVICES } from './series.js';

/** A validated detector choice: makes a fresh detector for each new series. */
export type DetectorMaker = () => Detector;

/** The maker, and the detector's own threshold for definitions that name none. */
export function resolveDetector(name: unknown, params: unknown, where: string): { make: DetectorMaker; threshold: number } {
  const detectorName = name === undefined ? DEFAULT_DETECTOR_NAME : name;
  if (typeof detectorName !== 'string' || detectorName.length === 0) throw invalidRequest(`${where}: detector must be a detector name`);
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw invalidRequest(`${where}: params must be an object`);
  }
  let factory;
  try {
    factory = detectorFactory(detectorName);
    factory.create(params as DetectorParams | undefined); // the probe: refuses bad parameters now
  } catch (e) {
    throw invalidRequest(`${where}: ${(e as Error).message}`);
  }
  const frozen = params === undefined ? undefined : (structuredClone(params) as DetectorParams);
  return { make: () => factory.create(frozen), threshold: factory.threshold };
}

/** A score in [0, 1] at or above which a point is anomalous. */
export function checkThreshold(v: unknown, where: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw invalidRequest(`${where}: threshold must be a number in [0, 1]`);
  return v;
}

export function checkMaxDevices(v: unknown, where: string): number {
  if (v === undefined) return DEFAULT_MAX_DEVICES;
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_MAX_DEVICES) {
    throw invalidRequest(`${where}: maxDevices must be an integer in 1..${MAX_MAX_DEVICES}`);
  }
  return v as number;
}

/** The series key of a device attribute's value: text as is, numbers and booleans as text;
 * anything else (missing, object, null) is the one series '' of messages naming no device. */
export function deviceKey(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}
