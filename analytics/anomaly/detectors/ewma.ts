// EWMA z-score: an exponentially weighted mean and variance, the point's deviation from them in
// standard deviations, mapped to [0, 1] by zToScore. O(1) memory and time per point.

import type { Detector, DetectorFactory, DetectorParams } from '../detector.js';
import { isUsable, readNumberParams, zToScore } from './params.js';

const SPECS = {
  /** weight of the newest point (0 < alpha ≤ 1); 1/alpha is roughly the memory in points */
  alpha: { default: 0.01, min: 0, max: 1, exclusiveMin: true },
  /** points seen before anything scores above 0 */
  warmup: { default: 100, min: 1, max: 1_000_000, integer: true },
  /** |z| that scores 0.5 */
  z0: { default: 4, min: 0, max: 1000, exclusiveMin: true },
  /** how sharply the score rises around z0 */
  steepness: { default: 4, min: 0, max: 100, exclusiveMin: true },
} as const;

class EwmaZ implements Detector {
  private mean = 0;
  private variance = 0;
  private seen = 0;

  constructor(private readonly alpha: number, private readonly warmup: number,
              private readonly z0: number, private readonly steepness: number) {}

  update(value: number): number {
    if (!isUsable(value)) return 0;
    if (this.seen === 0) {
      this.mean = value;
      this.seen = 1;
      return 0;
    }
    const d = value - this.mean;
    let score = 0;
    if (this.seen >= this.warmup) {
      const std = Math.sqrt(this.variance);
      score = std > 0 ? zToScore(d / std, this.z0, this.steepness) : d === 0 ? 0 : 1;
    }
    // West's incremental form: the mean moves by alpha·d, the variance decays and takes the
    // new deviation, both from the deviation against the old mean.
    this.mean += this.alpha * d;
    this.variance = (1 - this.alpha) * (this.variance + this.alpha * d * d);
    this.seen++;
    return score;
  }
}

export const ewmaDetector: DetectorFactory = {
  name: 'ewma',
  description: 'EWMA z-score: deviation from an exponentially weighted mean in exponentially weighted standard deviations (O(1))',
  threshold: 0.92, // NAB standard-profile sweep on the labelled corpus
  create(params?: DetectorParams): Detector {
    const p = readNumberParams('ewma', params, SPECS);
    return new EwmaZ(p.alpha, p.warmup, p.z0, p.steepness);
  },
};
