// Anomaly likelihood over an ensemble: the default detector. Two raw detectors see each point,
// their scores are combined, and the combined score is judged against its own recent history:
//
//  1. Raw score = max(contextual novelty, EWMA z-score). The contextual detector (run without its
//     own rest) finds values and short shapes the series has not shown lately; the z-score finds
//     plain distance from a moving mean, which novelty misses once a wide range is familiar.
//  2. Likelihood. A short EWMA of the raw score (weight `shortAlpha`, a few points) is compared
//     with a slow EWMA mean and variance of the raw score (weight `alpha`, about 1/alpha points):
//     score = P(|Z| < z) for z = (short − mean) / std, 0 when the short average is below the mean.
//     A series whose raw score is always high (noisy, never quite familiar) stops alarming; a jump
//     of the raw score above its usual level scores near 1. This is the step that lifted HTM on
//     NAB (Ahmad et al. 2017), here over O(1) moments instead of a window of raw scores.
//  3. Fire once per change. After a score at or above `fireScore` the detector scores 0 for
//     `restPeriod` points while everything keeps learning.
//
// Memory: the contextual table (fixed by its parameters) plus a few numbers. Time per point: the
// contextual detector's O(order) plus O(1).

import type { Detector, DetectorFactory, DetectorParams } from '../detector.js';
import { contextualDetector } from './contextual.js';
import { isUsable, normalCoverage, readNumberParams, zToScore } from './params.js';

const SPECS = {
  /** weight of the newest raw score in the slow mean and variance of raw scores */
  alpha: { default: 0.001, min: 0, max: 1, exclusiveMin: true },
  /** weight of the newest raw score in the short average that is judged against them */
  shortAlpha: { default: 0.3, min: 0, max: 1, exclusiveMin: true },
  /** weight of the newest value in the z-score's mean and variance */
  zAlpha: { default: 0.01, min: 0, max: 1, exclusiveMin: true },
  /** |z| at which the z-score's raw score is 0.5 */
  z0: { default: 4, min: 0, max: 1000, exclusiveMin: true },
  /** points seen before anything scores above 0 */
  warmup: { default: 200, min: 0, max: 1_000_000, integer: true },
  /** score at or above which the detector has fired and rests */
  fireScore: { default: 0.99, min: 0, max: 1, exclusiveMin: true },
  /** points scored 0 after the detector fired (0: never rest) */
  restPeriod: { default: 200, min: 0, max: 1_000_000_000, integer: true },
} as const;

type Params = Record<keyof typeof SPECS, number>;

/** Steepness of the z-score's logistic, as in the `ewma` detector. */
const Z_STEEPNESS = 4;
/** Floor of the raw-score standard deviation: raw scores live in [0, 1], so 0.001 is "no spread". */
const MIN_STD = 1e-3;

class EnsembleLikelihood implements Detector {
  private readonly novelty: Detector;
  private seen = 0;
  /** the z-score's moments of the values */
  private valueMean = 0;
  private valueVariance = 0;
  /** the raw score's short average and slow moments */
  private short = 0;
  private rawMean = 0;
  private rawVariance = 0;
  private sinceFired: number;

  constructor(private readonly p: Params) {
    this.novelty = contextualDetector.create({ restPeriod: 0 });
    this.sinceFired = p.restPeriod;
  }

  update(value: number, timestamp: number): number {
    if (!isUsable(value)) return 0;
    const p = this.p;
    const raw = Math.max(this.novelty.update(value, timestamp), this.zScore(value));

    this.short += p.shortAlpha * (raw - this.short);
    const z = (this.short - this.rawMean) / (Math.sqrt(this.rawVariance) + MIN_STD);
    let score = this.seen < p.warmup || z <= 0 ? 0 : normalCoverage(z);
    const d = raw - this.rawMean;
    this.rawMean += p.alpha * d;
    this.rawVariance = (1 - p.alpha) * (this.rawVariance + p.alpha * d * d);
    this.seen++;

    if (this.sinceFired < p.restPeriod) {
      this.sinceFired++;
      score = 0;
    } else if (score >= p.fireScore && p.restPeriod > 0) {
      this.sinceFired = 0;
    }
    return score;
  }

  /** EWMA z-score of the value against the moments before it, as a raw score in [0, 1]. */
  private zScore(value: number): number {
    if (this.seen === 0) {
      this.valueMean = value;
      return 0;
    }
    const a = this.p.zAlpha;
    const d = value - this.valueMean;
    // a constant series has variance 0: any change of it is as far as it gets
    const std = Math.sqrt(this.valueVariance);
    const score = std > 0 ? zToScore(d / std, this.p.z0, Z_STEEPNESS) : d === 0 ? 0 : 1;
    this.valueMean += a * d;
    this.valueVariance = (1 - a) * (this.valueVariance + a * d * d);
    return score;
  }
}

export const likelihoodDetector: DetectorFactory = {
  name: 'likelihood',
  description: 'anomaly likelihood of max(contextual novelty, EWMA z-score) against its own recent level; fires once per change (O(1) beyond the contextual table)',
  threshold: 0.99, // NAB standard-profile sweep on the labelled corpus
  create(params?: DetectorParams): Detector {
    return new EnsembleLikelihood(readNumberParams('likelihood', params, SPECS));
  },
};
