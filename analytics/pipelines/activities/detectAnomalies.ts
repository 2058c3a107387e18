// detectAnomalies (our extension, issue 6): scores a numeric attribute with a streaming detector,
// one detector state per device, and adds the score and a flag to the message.
// Decisions:
// * the point's timestamp is `timestampAttribute` (epoch ms number, or ISO-8601 text) when the
//   definition names one and the message holds a usable value; otherwise the time the activity
//   processes the message;
// * a message whose attribute is not a finite number passes unchanged (counted by the pipeline
//   as `undefinedResults`, like a math activity's Undefined result); strings are not parsed;
// * messages without the device attribute share one series (device '');
// * state lives in the compiled pipeline: UpdatePipeline, a restart and RunPipelineActivity (which
//   compiles the activity for each call) all start every series afresh;
// * at most `maxDevices` series are kept; the least recently seen one is evicted (counted).
import type { ActivityStep, Members } from './common.js';
import { checkMembers, checkString } from './common.js';
import type { Detector } from '../../anomaly/detector.js';
import { SeriesMap } from '../../anomaly/series.js';
import { checkMaxDevices, checkThreshold, deviceKey, resolveDetector } from '../../anomaly/spec.js';
import { compileGetter, findKey, parsePath } from '../paths.js';
import { invalidRequest } from '../../errors.js';

export interface DetectAnomaliesHooks {
  /** the attribute was missing or not a finite number: the message passed unchanged */
  onUndefined?: () => void;
  /** a series was evicted to make room for a new device */
  onSeriesEvicted?: () => void;
  /** a point scored at or above the threshold */
  onAnomaly?: () => void;
}

const MEMBERS = ['name', 'attribute', 'detector', 'params', 'deviceAttribute', 'timestampAttribute', 'threshold', 'scoreAttribute', 'flagAttribute', 'maxDevices', 'next'];

export function compileDetectAnomaliesActivity(body: Members, hooks: DetectAnomaliesHooks = {}, now: () => number = Date.now): ActivityStep {
  checkMembers(body, 'detectAnomalies', MEMBERS);
  const where = `detectAnomalies activity "${String(body.name)}"`;
  const value = compileGetter(parsePath(checkString(body, 'attribute', 'detectAnomalies', 1, 256), `${where}: attribute`));
  const device = compileGetter(parsePath(optional(body, 'deviceAttribute', 'deviceId'), `${where}: deviceAttribute`));
  const timestamp = body.timestampAttribute === undefined ? null : compileGetter(parsePath(checkString(body, 'timestampAttribute', 'detectAnomalies', 1, 256), `${where}: timestampAttribute`));
  const scoreAttribute = optional(body, 'scoreAttribute', 'anomaly_score');
  const flagAttribute = optional(body, 'flagAttribute', 'is_anomaly');
  if (scoreAttribute.toLowerCase() === flagAttribute.toLowerCase()) throw invalidRequest(`${where}: scoreAttribute and flagAttribute must differ`);
  const { make, threshold: detectorThreshold } = resolveDetector(body.detector, body.params, where);
  const threshold = checkThreshold(body.threshold, where, detectorThreshold);
  const series = new SeriesMap<Detector>(checkMaxDevices(body.maxDevices, where), () => make(), hooks.onSeriesEvicted && (() => hooks.onSeriesEvicted!()));
  const { onUndefined, onAnomaly } = hooks;

  return (m) => {
    const v = value(m);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      onUndefined?.();
      return m;
    }
    const score = series.get(deviceKey(device(m))).update(v, timestamp ? timeOf(timestamp(m), now) : now());
    const flag = score >= threshold;
    if (flag) onAnomaly?.();
    const out = { ...m };
    put(out, scoreAttribute, score);
    put(out, flagAttribute, flag);
    return out;
  };
}

function optional(body: Members, member: string, fallback: string): string {
  return body[member] === undefined ? fallback : checkString(body, member, 'detectAnomalies', 1, 256);
}

function timeOf(v: unknown, now: () => number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  return now();
}

/** Writes `key` as the last key, replacing a differently-cased one (attribute names are
 * case-insensitive, as in the math activity). */
function put(out: Record<string, unknown>, key: string, v: unknown): void {
  const existing = findKey(out, key);
  if (existing !== undefined) delete out[existing];
  out[key] = v;
}
