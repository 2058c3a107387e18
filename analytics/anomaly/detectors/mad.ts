// Robust z-score: the point's distance from the median of the last `window` points in units of
// their median absolute deviation (MAD × 1.4826 estimates σ for normal data), mapped to [0, 1]
// by zToScore. A spike cannot drag the median and MAD the way it drags a mean and stddev.
//
// Memory: two Float64Arrays of `window` values (arrival order and sorted order). Per point: two
// binary searches (O(log W) comparisons) plus one typed-array shift (copyWithin, a memmove of at
// most W doubles) to keep the window sorted; the median is read directly and the MAD is the k-th
// smallest of two sorted deviation sequences, found by a binary search (O(log W)). Never a sort.

import type { Detector, DetectorFactory, DetectorParams } from '../detector.js';
import { isUsable, readNumberParams, zToScore } from './params.js';

const SPECS = {
  /** points in the sliding window */
  window: { default: 500, min: 3, max: 1_000_000, integer: true },
  /** points seen before anything scores above 0 */
  warmup: { default: 100, min: 3, max: 1_000_000, integer: true },
  /** |robust z| that scores 0.5 */
  z0: { default: 4, min: 0, max: 1000, exclusiveMin: true },
  /** how sharply the score rises around z0 */
  steepness: { default: 4, min: 0, max: 100, exclusiveMin: true },
} as const;

/** MAD × this estimates the standard deviation of normally distributed data. */
const MAD_TO_SIGMA = 1.4826;
/** the scale never drops below this fraction of the window's max − min */
const RANGE_FLOOR = 0.1;

/** First index in sorted[0, n) whose value is ≥ x. */
function lowerBound(sorted: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedWindow {
  readonly ring: Float64Array;
  readonly sorted: Float64Array;
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  push(x: number): void {
    if (this.size === this.capacity) {
      const old = this.ring[this.head];
      const at = lowerBound(this.sorted, this.size, old);
      this.sorted.copyWithin(at, at + 1, this.size);
      this.size--;
    }
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    const at = lowerBound(this.sorted, this.size, x);
    this.sorted.copyWithin(at + 1, at, this.size);
    this.sorted[at] = x;
    this.size++;
  }

  median(): number {
    const n = this.size;
    const h = n >>> 1;
    return n % 2 === 1 ? this.sorted[h] : (this.sorted[h - 1] + this.sorted[h]) / 2;
  }

  /**
   * Median of |x − median| over the window. The deviations of the lower half, read outwards from
   * the middle, and of the upper half are two ascending sequences; the k-th smallest of their
   * union comes from a binary search on how many to take from the lower one.
   */
  mad(): number {
    const n = this.size;
    const h = n >>> 1;
    const med = this.median();
    return n % 2 === 1 ? this.kthDeviation(h, med) : (this.kthDeviation(h - 1, med) + this.kthDeviation(h, med)) / 2;
  }

  /** k-th smallest (0-based) |x − med|: lower half read outwards (med − sorted[h−1−j]), upper half (sorted[h+j] − med). */
  private kthDeviation(k: number, med: number): number {
    const s = this.sorted;
    const h = this.size >>> 1;
    const nL = h;
    const nR = this.size - h;
    // binary search on i = how many come from the lower half (k+1−i from the upper)
    let lo = Math.max(0, k + 1 - nR);
    let hi = Math.min(k + 1, nL);
    while (lo < hi) {
      const i = (lo + hi) >>> 1;
      const j = k + 1 - i;
      if (j > 0 && med - s[h - 1 - i] < s[h + j - 1] - med) lo = i + 1;
      else hi = i;
    }
    const a = lo > 0 ? med - s[h - lo] : -Infinity;
    const j = k + 1 - lo;
    const b = j > 0 ? s[h + j - 1] - med : -Infinity;
    return Math.max(a, b);
  }

  /** (max − min) of the window: the fallback scale when more than half the values are equal. */
  range(): number {
    return this.size === 0 ? 0 : this.sorted[this.size - 1] - this.sorted[0];
  }
}

class RobustZ implements Detector {
  private readonly win: SortedWindow;
  private seen = 0;

  constructor(window: number, private readonly warmup: number,
              private readonly z0: number, private readonly steepness: number) {
    this.win = new SortedWindow(window);
  }

  update(value: number): number {
    if (!isUsable(value)) return 0;
    let score = 0;
    if (this.seen >= this.warmup) {
      const med = this.win.median();
      // Quantised or mostly-flat series have MAD 0 (or tiny): a floor at a fraction of the
      // window's range keeps the score finite and ranks a change by its size instead of
      // scoring every small wiggle near 1.
      const scale = Math.max(MAD_TO_SIGMA * this.win.mad(), RANGE_FLOOR * this.win.range());
      const d = value - med;
      score = scale > 0 ? zToScore(d / scale, this.z0, this.steepness) : d === 0 ? 0 : 1;
    }
    this.win.push(value);
    this.seen++;
    return score;
  }
}

export const madDetector: DetectorFactory = {
  name: 'mad',
  description: 'robust z-score: distance from the sliding-window median in MAD units (sorted window, no re-sort per point)',
  threshold: 0.98, // NAB standard-profile sweep on the labelled corpus
  create(params?: DetectorParams): Detector {
    const p = readNumberParams('mad', params, SPECS);
    return new RobustZ(p.window, p.warmup, p.z0, p.steepness);
  },
};
