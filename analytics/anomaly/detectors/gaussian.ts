// Windowed Gaussian, the classic NAB baseline: the mean and standard deviation of the last
// `window` points, and a score of 1 − the two-sided normal tail probability of the new point
// against them. O(window) memory (a ring buffer), O(1) time per point (running sums).

import type { Detector, DetectorFactory, DetectorParams } from '../detector.js';
import { isUsable, normalCoverage, readNumberParams } from './params.js';

const SPECS = {
  /** points in the sliding window */
  window: { default: 6400, min: 2, max: 1_000_000, integer: true },
  /** points seen before anything scores above 0 */
  warmup: { default: 100, min: 2, max: 1_000_000, integer: true },
} as const;

class WindowedGaussian implements Detector {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private seen = 0;
  // Sums of (x − shift) so large offsets (timestamps, bytes) do not cancel catastrophically.
  private shift = 0;
  private sum = 0;
  private sumSq = 0;
  private sinceRecompute = 0;

  constructor(private readonly window: number, private readonly warmup: number) {
    this.ring = new Float64Array(window);
  }

  update(value: number): number {
    if (!isUsable(value)) return 0;
    let score = 0;
    if (this.seen >= this.warmup && this.count >= 2) {
      const mean = this.sum / this.count;
      const variance = Math.max(0, this.sumSq / this.count - mean * mean);
      const d = value - this.shift - mean;
      const std = Math.sqrt(variance);
      // A flat window: any change is infinitely unlikely, no change is perfectly normal.
      score = std > 0 ? normalCoverage(d / std) : d === 0 ? 0 : 1;
    }
    this.push(value);
    return score;
  }

  private push(value: number): void {
    if (this.seen === 0) this.shift = value;
    this.seen++;
    const x = value - this.shift;
    if (this.count === this.window) {
      const old = this.ring[this.head];
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.count++;
    }
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.window;
    this.sum += x;
    this.sumSq += x * x;
    // Subtracting leaving points accumulates rounding error; an exact pass every `window`
    // points keeps it bounded at O(1) amortised cost.
    if (++this.sinceRecompute >= this.window) this.recompute();
  }

  private recompute(): void {
    let s = 0;
    let q = 0;
    for (let i = 0; i < this.count; i++) {
      const v = this.ring[i];
      s += v;
      q += v * v;
    }
    this.sum = s;
    this.sumSq = q;
    this.sinceRecompute = 0;
  }
}

export const gaussianDetector: DetectorFactory = {
  name: 'gaussian',
  description: 'windowed Gaussian: 1 − two-sided normal tail probability against the mean/stddev of the last `window` points',
  threshold: 0.9999, // NAB standard-profile sweep on the labelled corpus
  create(params?: DetectorParams): Detector {
    const p = readNumberParams('gaussian', params, SPECS);
    return new WindowedGaussian(p.window, p.warmup);
  },
};
