// Contextual novelty: an anomaly is a value, or a short sequence of values, the series has not
// shown lately. The idea follows the contextual detectors that do well on NAB (CAD OSE: quantise,
// remember contexts, forget old ones), made strictly bounded and threshold-free in its learning:
//
//  1. Quantise. Each value becomes a level: its distance from a slow EWMA mean in units of the slow
//     EWMA standard deviation (`levelWidth` of them per level), clamped to ±`levels`. Levels follow
//     level shifts slowly, so a new regime first looks novel and then becomes familiar. Until
//     there are 1/alpha points the moments are the plain mean and variance of all of them.
//  2. Contexts. The last 1..`order` levels (the current one included) form `order` contexts, each
//     hashed into one fixed table of decaying counts (`tableSize` slots; collisions only make a
//     context look more familiar, never less). Novelty of a context = exp(−count / familiarity).
//  3. Score = mean novelty over the orders: 1 for a value never seen near this level, lower as the
//     value and the path to it become familiar.
//  4. Fire once per change. After a score at or above `fireScore` the detector scores 0 for
//     `restPeriod` points while it keeps learning: NAB (and an operator) rewards the first
//     detection of an episode and penalises the repeats.
//
// Memory: tableSize + order numbers, fixed at creation. Time per point: O(order), plus one pass
// over the table every 1024 points to apply the forgetting (O(tableSize / 1024) amortised).

import type { Detector, DetectorFactory, DetectorParams } from '../detector.js';
import { DEFAULT_ANOMALY_THRESHOLD } from '../detector.js';
import { invalidRequest } from '../../errors.js';
import { isUsable, readNumberParams } from './params.js';

const SPECS = {
  /** weight of the newest point in the slow mean and variance that define the levels */
  alpha: { default: 0.001, min: 0, max: 1, exclusiveMin: true },
  /** width of one level in slow standard deviations */
  levelWidth: { default: 1, min: 0, max: 1000, exclusiveMin: true },
  /** levels each side of the mean; farther values share the outermost level */
  levels: { default: 16, min: 1, max: 1024, integer: true },
  /** longest context, in points (1: values only, 3: values and the two before) */
  order: { default: 3, min: 1, max: 16, integer: true },
  /** decayed count at which a context's novelty has fallen to 1/e */
  familiarity: { default: 2, min: 0, max: 1e9, exclusiveMin: true },
  /** points after which a context's count has halved (how fast the detector forgets) */
  halfLife: { default: 1400, min: 1, max: 1e12 },
  /** slots of the context table; a power of two */
  tableSize: { default: 4096, min: 16, max: 1 << 24, integer: true },
  /** points seen before anything scores above 0 */
  warmup: { default: 50, min: 0, max: 1_000_000, integer: true },
  /** score at or above which the detector has fired and rests */
  fireScore: { default: DEFAULT_ANOMALY_THRESHOLD, min: 0, max: 1, exclusiveMin: true },
  /** points scored 0 after the detector fired (0: never rest) */
  restPeriod: { default: 200, min: 0, max: 1_000_000_000, integer: true },
} as const;

type Params = Record<keyof typeof SPECS, number>;

/** Forgetting is applied to the whole table once per this many points (a power of two). */
const DECAY_EVERY = 1024;

class ContextualNovelty implements Detector {
  private readonly counts: Float32Array;
  /** the last `order` levels, newest first */
  private readonly recent: Int32Array;
  private readonly mask: number;
  private readonly decayFactor: number;
  private mean = 0;
  private variance = 0;
  private seen = 0;
  /** points since the detector last fired */
  private sinceFired: number;

  constructor(private readonly p: Params) {
    this.counts = new Float32Array(p.tableSize);
    this.recent = new Int32Array(p.order);
    this.mask = p.tableSize - 1;
    this.decayFactor = Math.pow(0.5, DECAY_EVERY / p.halfLife);
    this.sinceFired = p.restPeriod;
  }

  update(value: number): number {
    if (!isUsable(value)) return 0;
    const p = this.p;
    const level = this.quantise(value);
    const recent = this.recent;
    for (let k = recent.length - 1; k > 0; k--) recent[k] = recent[k - 1];
    recent[0] = level;

    // Contexts of growing length share one hash chain: context k extends context k−1.
    const counts = this.counts;
    let h = 0x811c9dc5 | 0;
    let novelty = 0;
    for (let k = 0; k < recent.length; k++) {
      h = Math.imul(h ^ (recent[k] + 1), 0x01000193);
      const slot = (h ^ (h >>> 15)) & this.mask;
      novelty += Math.exp(-counts[slot] / p.familiarity);
      counts[slot] += 1;
    }
    novelty /= recent.length;

    this.learnMoments(value);
    this.seen++;
    if ((this.seen & (DECAY_EVERY - 1)) === 0) {
      const f = this.decayFactor;
      for (let i = 0; i < counts.length; i++) counts[i] *= f;
    }

    let score = this.seen <= p.warmup ? 0 : novelty;
    if (this.sinceFired < p.restPeriod) score = 0;
    else if (score >= p.fireScore) this.sinceFired = 0;
    if (this.sinceFired < p.restPeriod) this.sinceFired++;
    return score;
  }

  /** The value's level against the moments learnt so far (before this point). */
  private quantise(value: number): number {
    const p = this.p;
    if (this.seen < 2) return 0;
    // A constant series has variance 0: a tiny width relative to its magnitude keeps any change
    // of it far away (outermost level) instead of dividing by zero.
    const std = Math.sqrt(this.variance) + 1e-9 * (Math.abs(this.mean) + 1);
    const z = Math.floor((value - this.mean) / (std * p.levelWidth));
    return z < -p.levels ? -p.levels : z > p.levels ? p.levels : z;
  }

  private learnMoments(value: number): void {
    if (this.seen === 0) {
      this.mean = value;
      return;
    }
    // Plain mean and variance of all points until there are 1/alpha of them, then the EWMA: a
    // fresh series gets its real spread at once instead of one biased low for ~1/alpha points,
    // which made every level look new (and the series' first minutes look anomalous).
    const a = Math.max(this.p.alpha, 1 / (this.seen + 1));
    const d = value - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
  }
}

export const contextualDetector: DetectorFactory = {
  name: 'contextual',
  description: 'Contextual novelty: quantised values and short sequences of them counted in a fixed, forgetting table; scores what is new, once per change (O(order))',
  threshold: 0.48, // NAB standard-profile sweep on the labelled corpus
  create(params?: DetectorParams): Detector {
    const p = readNumberParams('contextual', params, SPECS);
    if ((p.tableSize & (p.tableSize - 1)) !== 0) {
      throw invalidRequest(`detector contextual: parameter tableSize must be a power of two, got ${p.tableSize}`);
    }
    return new ContextualNovelty(p);
  },
};
