// One device's measurements over time, columnar for the charts: a shared ascending x (epoch ms)
// and one column per metric, null where a row lacks that metric. History and live rows are merged
// into it in x order; bounded by a point cap. Pure.

import type { DecodedRow } from './frames.js';

export const DEFAULT_MAX_POINTS = 20_000;

export class MetricSeries {
  private xs: number[] = [];
  private readonly columns = new Map<string, (number | null)[]>();
  private changed = false;
  /** points removed because the cap was reached */
  droppedPoints = 0;

  constructor(private readonly maxPoints = DEFAULT_MAX_POINTS) {}

  /** Metric names in order of first appearance. */
  get metrics(): string[] {
    return [...this.columns.keys()];
  }

  get length(): number {
    return this.xs.length;
  }

  get firstX(): number | undefined {
    return this.xs[0];
  }

  get lastX(): number | undefined {
    return this.xs[this.xs.length - 1];
  }

  /** True once since the last `takeDirty()` when something changed. */
  takeDirty(): boolean {
    const was = this.changed;
    this.changed = false;
    return was;
  }

  clear(): void {
    this.xs = [];
    for (const metric of this.columns.keys()) this.columns.set(metric, []);
    this.changed = true;
  }

  /** Makes a metric known (its chart exists) before any value of it arrives. */
  addMetric(metric: string): void {
    if (!this.columns.has(metric)) this.columns.set(metric, new Array<number | null>(this.xs.length).fill(null));
  }

  /**
   * Adds rows at their x (`row.at`). A row equal to one already held (same x, same values) is
   * skipped: refetched history overlapping rows that came live must not draw twice.
   */
  add(rows: readonly DecodedRow[]): number {
    let added = 0;
    for (const row of rows) {
      for (const metric of Object.keys(row.values)) this.addMetric(metric);
      const index = this.insertionIndex(row.at);
      if (this.duplicates(index, row)) continue;
      this.xs.splice(index, 0, row.at);
      for (const [metric, values] of this.columns) values.splice(index, 0, row.values[metric] ?? null);
      added++;
    }
    if (added > 0) {
      this.changed = true;
      this.cap();
    }
    return added;
  }

  /** Drops points with x < minX (the live window sliding). */
  trimBefore(minX: number): void {
    let cut = 0;
    while (cut < this.xs.length && this.xs[cut] < minX) cut++;
    this.removeOldest(cut);
  }

  /** `[xs, ys]` of one metric, for its chart (copies: the chart keeps them while we go on). */
  columnOf(metric: string): [number[], (number | null)[]] {
    return [this.xs.slice(), (this.columns.get(metric) ?? new Array<number | null>(this.xs.length).fill(null)).slice()];
  }

  /** How many points of a metric are not null. */
  countOf(metric: string): number {
    return (this.columns.get(metric) ?? []).reduce<number>((n, v) => (v === null ? n : n + 1), 0);
  }

  private cap(): void {
    const over = this.xs.length - this.maxPoints;
    if (over > 0) {
      this.droppedPoints += over;
      this.removeOldest(over);
    }
  }

  private removeOldest(count: number): void {
    if (count <= 0) return;
    this.xs.splice(0, count);
    for (const values of this.columns.values()) values.splice(0, count);
    this.changed = true;
  }

  /** Index after every x <= at: appends in the common case (rows arrive in time order). */
  private insertionIndex(at: number): number {
    const xs = this.xs;
    if (xs.length === 0 || at >= xs[xs.length - 1]) return xs.length;
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private duplicates(index: number, row: DecodedRow): boolean {
    // Equal xs sit just before the insertion index.
    for (let i = index - 1; i >= 0 && this.xs[i] === row.at; i--) {
      let same = true;
      for (const [metric, values] of this.columns) {
        if ((row.values[metric] ?? null) !== values[i]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    return false;
  }
}
