// Anomaly likelihood over an ensemble, plus an extreme-value term: the default detector.
//
//  1. Raw score = max(contextual novelty, EWMA z-score). The contextual detector (run without its
//     own rest) finds values and short shapes the series has not shown lately; the z-score finds
//     plain distance from a moving mean, which novelty misses once a wide range is familiar.
//  2. Likelihood. A short EWMA of the raw score (weight `shortAlpha`, a few points) is compared
//     with a slow EWMA mean and variance of the raw score (weight `alpha`, about 1/alpha points):
//     likelihood = P(|Z| < z) for z = (short − mean) / std, 0 when the short average is below the
//     mean. A series whose raw score is always high (noisy, never quite familiar) stops alarming; a
//     jump of the raw score above its usual level scores near 1. This is the step that lifted HTM
//     on NAB (Ahmad et al. 2017), here over O(1) moments instead of a window of raw scores.
//  3. Extreme value. The likelihood judges a sustained rise and so ignores one extreme point (the
//     short average moves by only `shortAlpha` of it). A point whose |z| against the slow moments
//     of the values (weight `alpha`, the same horizon as step 2) is at least `zExtreme` scores
//     1 − (1 − fireScore)·(zExtreme/|z|)², i.e. fireScore at zExtreme and towards 1 beyond, so an
//     isolated spike fires too. Slow moments remember a series' recurring spikes, so a spiky
//     series does not fire on each of them.
//  4. Score = max(likelihood, extreme value). Fire once per change: after a score at or above
//     `fireScore` the detector scores 0 for `restPeriod` points while everything keeps learning.
//
// Every moment is the plain mean and variance of all points seen until there are 1/weight of
// them, then the EWMA: unbiased from the first points instead of starting at 0 (which made a
// fresh series' ordinary wander look unusual).
//
// Memory: the contextual table (fixed by its parameters) plus a few numbers. Time per point: the
// contextual detector's O(order) plus O(1).

import type { Detector, DetectorFactory, DetectorParams } from '../detector.js';
import { contextualDetector } from './contextual.js';
import { isUsable, normalCoverage, readNumberParams, zToScore } from './params.js';

const SPECS = {
  /** weight of the newest point in the slow moments (of raw scores, and of values for step 3) */
  alpha: { default: 0.001, min: 0, max: 1, exclusiveMin: true },
  /** weight of the newest raw score in the short average that is judged against them */
  shortAlpha: { default: 0.3, min: 0, max: 1, exclusiveMin: true },
  /** weight of the newest value in the z-score's mean and variance */
  zAlpha: { default: 0.01, min: 0, max: 1, exclusiveMin: true },
  /** |z| at which the z-score's raw score is 0.5 */
  z0: { default: 4, min: 0, max: 1000, exclusiveMin: true },
  /** |z| against the slow moments at which a single point scores fireScore (0: no extreme-value term) */
  zExtreme: { default: 12, min: 0, max: 1e9 },
  /** points seen before anything scores above 0 */
  warmup: { default: 200, min: 0, max: 1_000_000, integer: true },
  /** score at or above which the detector has fired and rests */
  fireScore: { default: 0.995, min: 0, max: 1, exclusiveMin: true },
  /** points scored 0 after the detector fired (0: never rest) */
  restPeriod: { default: 200, min: 0, max: 1_000_000_000, integer: true },
} as const;

type Params = Record<keyof typeof SPECS, number>;

/** Steepness of the z-score's logistic, as in the `ewma` detector. */
const Z_STEEPNESS = 4;
/** Floor of the raw-score standard deviation: raw scores live in [0, 1], so 0.001 is "no spread". */
const MIN_STD = 1e-3;

/** An EWMA mean and variance that is the plain mean and variance until there are 1/alpha points. */
class Moments {
  mean = 0;
  variance = 0;
  private n = 0;

  constructor(private readonly alpha: number) {}

  /** |x − mean| in standard deviations before x is added (Infinity off a constant series). */
  absZ(x: number): number {
    const d = Math.abs(x - this.mean);
    const std = Math.sqrt(this.variance);
    return std > 0 ? d / std : d === 0 ? 0 : Infinity;
  }

  add(x: number): void {
    this.n++;
    const a = Math.max(this.alpha, 1 / this.n);
    const d = x - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
  }
}

class EnsembleLikelihood implements Detector {
  private readonly novelty: Detector;
  private readonly value: Moments;
  private readonly slowValue: Moments;
  private readonly raw: Moments;
  private seen = 0;
  /** short EWMA of the raw score */
  private short = 0;
  private sinceFired: number;

  constructor(private readonly p: Params) {
    this.novelty = contextualDetector.create({ restPeriod: 0 });
    this.value = new Moments(p.zAlpha);
    this.slowValue = new Moments(p.alpha);
    this.raw = new Moments(p.alpha);
    this.sinceFired = p.restPeriod;
  }

  update(value: number, timestamp: number): number {
    if (!isUsable(value)) return 0;
    const p = this.p;
    const first = this.seen === 0;
    const zRaw = first ? 0 : zToScore(this.value.absZ(value), p.z0, Z_STEEPNESS);
    const extremeZ = first ? 0 : this.slowValue.absZ(value);
    this.value.add(value);
    this.slowValue.add(value);
    const raw = Math.max(this.novelty.update(value, timestamp), zRaw);

    this.short += p.shortAlpha * (raw - this.short);
    const z = (this.short - this.raw.mean) / (Math.sqrt(this.raw.variance) + MIN_STD);
    let score = 0;
    if (this.seen >= p.warmup) {
      if (z > 0) score = normalCoverage(z);
      if (p.zExtreme > 0 && extremeZ >= p.zExtreme) {
        score = Math.max(score, 1 - (1 - p.fireScore) * (p.zExtreme / extremeZ) ** 2);
      }
    }
    this.raw.add(raw);
    this.seen++;

    if (this.sinceFired < p.restPeriod) {
      this.sinceFired++;
      score = 0;
    } else if (score >= p.fireScore && p.restPeriod > 0) {
      this.sinceFired = 0;
    }
    return score;
  }
}

export const likelihoodDetector: DetectorFactory = {
  name: 'likelihood',
  description: 'anomaly likelihood of max(contextual novelty, EWMA z-score) against its own recent level, or a single extreme point; fires once per change (O(1) beyond the contextual table)',
  threshold: 0.994, // NAB standard-profile sweep on the labelled corpus
  create(params?: DetectorParams): Detector {
    return new EnsembleLikelihood(readNumberParams('likelihood', params, SPECS));
  },
};
